//! The Grafana backend plugin binary. Grafana starts it, reads the go-plugin handshake line from
//! stdout and talks gRPC; everything else (logs) goes to stderr.

use mdm_audit_datasource::MdmPlugin;

#[grafana_plugin_sdk::main(services(data, diagnostics, resource), init_subscriber = true)]
async fn plugin() -> MdmPlugin {
    MdmPlugin::default()
}
