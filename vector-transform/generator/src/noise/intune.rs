//! Intune noise: managedDevices snapshots, the daily diagnostic batches, compliance and enrollment
//! operational logs, the automation app's syncs, and the admins' routine edits and device actions.

use crate::GenerateError;
use crate::buf::v4;
use crate::engine::Engine;
use crate::feeds::Feed;
use crate::fleet::{Device, Mdm, Platform};
use crate::render::intune::{self, Actor, Category, FailingSetting, Op, Prop, Resource};
use crate::time::{DAY, HOUR, MINUTE, Micros};

use super::{NoiseKind, NoiseStream, emit_audit, pick};

/// A routine compliance failure for a device: an OS below the minimum when it runs an old release,
/// else a firewall or security-provider setting.
fn routine_setting(d: &Device) -> FailingSetting {
    let old_os = d.os + 1 == d.model.os.len() && d.model.os.len() > 1;
    match d.platform() {
        Platform::Windows if old_os => FailingSetting {
            policy: "Windows10CompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 10.0.22631",
            actual: d.os_version(),
            path: "DeviceStatus/OSVersion",
        },
        Platform::Windows => FailingSetting {
            policy: "Windows10CompliancePolicy",
            setting: "ActiveFirewallRequired",
            rule: "Device_Firewall_Enabled",
            expected: "Equals True",
            actual: "False",
            path: "DeviceStatus/Firewall/Status",
        },
        Platform::MacOs if old_os => FailingSetting {
            policy: "MacOSCompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 15.0",
            actual: d.os_version(),
            path: "SecurityInfo/OSVersion",
        },
        Platform::MacOs => FailingSetting {
            policy: "MacOSCompliancePolicy",
            setting: "FirewallEnabled",
            rule: "Device_Firewall_Enabled",
            expected: "Equals True",
            actual: "False",
            path: "SecurityInfo/FirewallEnabled",
        },
        Platform::Ios | Platform::IpadOs => FailingSetting {
            policy: "IosCompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 18.0",
            actual: d.os_version(),
            path: "DeviceStatus/OSVersion",
        },
        Platform::Android => FailingSetting {
            policy: "AndroidDeviceOwnerCompliancePolicy",
            setting: "SecurityRequireUpToDateSecurityProviders",
            rule: "Device_SecurityProvider_UpToDate",
            expected: "Equals True",
            actual: "False",
            path: "DeviceStatus/SecurityProvider",
        },
    }
}

impl NoiseStream {
    /// Intune activity: snapshots, diagnostic records, audit events.
    pub(super) fn render_intune(
        &mut self,
        eng: &mut Engine<'_>,
        t: Micros,
    ) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        match self.kind {
            NoiseKind::IntuneManagedDevice => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let d = &mut eng.fleet.devices[i];
                // Devices that drifted get fixed by their users after a while.
                if !d.compliant && !d.reserved && rng.chance(0.08) {
                    d.compliant = true;
                }
                intune::managed_device(&mut eng.b, &eng.fleet, &eng.fleet.devices[i], t);
                eng.emit(Feed::IntuneManagedDevices)?;
            }
            NoiseKind::IntuneDevicesBatch | NoiseKind::IntuneComplianceBatch => {
                let day = t.div_euclid(DAY);
                if day != self.batch_day {
                    self.batch_day = day;
                    self.batch_id = v4(rng.next_u128());
                }
                // One record per device per batch: walk the pool, skipping devices no longer managed.
                let mut i = self.pool[self.cursor % self.pool.len()] as usize;
                for _ in 0..self.pool.len() {
                    if eng.fleet.devices[i].active {
                        break;
                    }
                    self.cursor += 1;
                    i = self.pool[self.cursor % self.pool.len()] as usize;
                }
                self.cursor += 1;
                let last_contact = t - rng.range(10 * MINUTE, 20 * HOUR);
                if self.kind == NoiseKind::IntuneDevicesBatch {
                    intune::diag_device(
                        &mut eng.b,
                        &eng.fleet,
                        &eng.fleet.devices[i],
                        t,
                        self.batch_id,
                        last_contact,
                    );
                } else {
                    intune::diag_compliance_org(
                        &mut eng.b,
                        &eng.fleet,
                        &eng.fleet.devices[i],
                        t,
                        last_contact,
                    );
                }
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneNoncompliant => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let setting = routine_setting(&eng.fleet.devices[i]);
                if !eng.fleet.devices[i].reserved {
                    eng.fleet.devices[i].compliant = false;
                }
                let guid = v4(rng.next_u128());
                let tick = rng.below(10) as u8;
                intune::diag_noncompliant(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    tick,
                    &setting,
                    guid,
                );
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneEnrollment => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let ok = rng.chance(0.85);
                let tick = rng.below(10) as u8;
                intune::diag_enrollment(&mut eng.b, &eng.fleet, &eng.fleet.devices[i], t, tick, ok);
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneAppSync => {
                let apps = eng.fleet.api_clients_of(Mdm::Intune);
                let app = eng.fleet.api_clients[apps[0]].clone();
                let i = pick(rng, &eng.fleet, &self.pool);
                let ev = intune::device_action(
                    &eng.fleet.devices[i],
                    "syncDevice ManagedDevice",
                    Actor::App(app),
                    t,
                    rng,
                    true,
                );
                emit_audit(eng, &ev)?;
            }
            NoiseKind::IntuneAdmin => self.intune_admin(eng, t)?,
            kind => unreachable!("{kind:?} is not an Intune stream"),
        }
        Ok(())
    }

    /// An Intune admin: a routine edit or a device action (Graph + diagnostic).
    fn intune_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        let admin = &eng.fleet.admins[self.actor];
        let actor = Actor::User {
            upn: admin.account.clone(),
            object_id: admin.object_id,
        };
        let helpdesk = admin.role.starts_with("Help Desk");
        let fleet = &eng.fleet;
        let choice = if helpdesk {
            5 + rng.index(2)
        } else {
            rng.index(10)
        };
        let ev = match choice {
            9 => {
                // A remediation script: its bodies are secrets the mappings redact by property name.
                let name = *rng.pick(&[
                    "Clear-TeamsCache",
                    "Repair-OneDriveSync",
                    "Reset-WindowsUpdate",
                    "Remove-StaleProfiles",
                ]);
                let detect = format!(
                    "$p = \"$env:LOCALAPPDATA\\Northwind\\{name}.flag\"\r\nif (Test-Path $p) {{ exit 1 }} else {{ exit 0 }} # {}\r\n",
                    rng.below(1_000_000)
                );
                let remediate = format!(
                    "Start-Transcript -Path \"$env:TEMP\\{name}.log\"\r\nNew-Item -ItemType File -Force \"$env:LOCALAPPDATA\\Northwind\\{name}.flag\" # {}\r\n",
                    rng.below(1_000_000)
                );
                let id = crate::buf::guid_string(v4(rng.next_u128()));
                intune::simple_event(
                    "Create DeviceHealthScript",
                    "DeviceConfiguration",
                    Op::Create,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(name.to_owned()),
                        rtype: "DeviceHealthScript",
                        id,
                        props: vec![
                            Prop::set("DisplayName", name),
                            Prop::set("Publisher", "Northwind IT"),
                            Prop::set("RunAsAccount", "User"),
                            Prop::set(
                                "DetectionScriptContent",
                                crate::buf::base64(detect.as_bytes()),
                            ),
                            Prop::set(
                                "RemediationScriptContent",
                                crate::buf::base64(remediate.as_bytes()),
                            ),
                            Prop::set("RunAs32Bit", "False"),
                        ],
                    },
                )
            }
            8 => {
                // An app assignment removed (its display name is the "<null>" literal).
                let app = rng.pick(&fleet.intune_apps);
                let group = rng.pick(&fleet.intune_groups);
                intune::simple_event(
                    "Delete MobileAppAssignment",
                    "Application",
                    Op::Delete,
                    Category::Application,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: None,
                        rtype: "MobileAppAssignment",
                        id: format!(
                            "{}_{}_0",
                            crate::buf::guid_string(app.guid),
                            crate::buf::guid_string(group.guid)
                        ),
                        props: Vec::new(),
                    },
                )
            }
            5 | 6 => {
                let d = &fleet.devices[pick(rng, fleet, &self.pool)];
                let verb = *rng.pick(&[
                    "syncDevice ManagedDevice",
                    "rebootNow ManagedDevice",
                    "remoteLock ManagedDevice",
                    "syncDevice ManagedDevice",
                ]);
                let ok = rng.chance(0.97);
                intune::device_action(d, verb, actor, t, rng, ok)
            }
            0 | 7 => {
                let c = rng.pick(&fleet.intune_configs);
                let v = 2 + rng.below(9);
                let mut props = vec![Prop::change("Version", v.to_string(), (v + 1).to_string())];
                match rng.index(3) {
                    0 => props.push(Prop::change("CameraBlocked", "false", "true")),
                    1 => props.push(Prop::change(
                        "Description",
                        "<null>",
                        format!("Updated per change CHG{:06}", rng.below(1_000_000)),
                    )),
                    _ => props.push(Prop::change("BluetoothBlocked", "true", "false")),
                }
                // Intune's Patch quirk: an unchanged collection re-emitted with an empty new value.
                props.push(Prop::change("$Collection.RoleScopeTagIds[0]", "0", ""));
                props.push(Prop::api_version(true));
                intune::simple_event(
                    "Patch DeviceConfiguration",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceConfiguration",
                        id: crate::buf::guid_string(c.guid),
                        props,
                    },
                )
            }
            1 => {
                let c = rng.pick(&fleet.intune_settings);
                intune::simple_event(
                    "Patch DeviceManagementConfigurationPolicy",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceManagementConfigurationPolicy",
                        id: crate::buf::guid_string(c.guid),
                        props: vec![
                            Prop::change("Description", "<null>", "Reviewed quarterly"),
                            Prop::change("SettingCount", "12", "13"),
                            Prop::api_version(true),
                        ],
                    },
                )
            }
            2 => {
                let c = rng.pick(&fleet.intune_compliance);
                intune::simple_event(
                    "Patch DeviceCompliancePolicy",
                    "Compliance",
                    Op::Patch,
                    Category::Compliance,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceCompliancePolicy",
                        id: crate::buf::guid_string(c.guid),
                        props: vec![
                            Prop::change("OsMinimumVersion", "\"10.0.19045\"", "\"10.0.22631\""),
                            Prop::change("Version", "3", "4"),
                            Prop::api_version(true),
                        ],
                    },
                )
            }
            3 => {
                let app = rng.pick(&fleet.intune_apps);
                let group = rng.pick(&fleet.intune_groups);
                let required = rng.chance(0.15);
                let app_id = crate::buf::guid_string(app.guid);
                let group_id = crate::buf::guid_string(group.guid);
                let mut ev = intune::simple_event(
                    "Create MobileAppAssignment",
                    "Application",
                    Op::Create,
                    Category::Application,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(app.name.clone()),
                        rtype: "MobileApp",
                        id: app_id.clone(),
                        props: Vec::new(),
                    },
                );
                ev.resources.push(Resource {
                    name: None,
                    rtype: "MobileAppAssignment",
                    id: format!("{app_id}_{group_id}_0"),
                    props: vec![
                        Prop::set("Intent", if required { "Required" } else { "Available" }),
                        Prop::set("Target.GroupId", group_id),
                        Prop::set("Target.Type", "GroupAssignmentTarget"),
                        Prop::api_version(false),
                    ],
                });
                ev
            }
            _ => {
                let f = rng.pick(&fleet.intune_filters);
                intune::simple_event(
                    "Patch DeviceAndAppManagementAssignmentFilter",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(f.name.clone()),
                        rtype: "DeviceAndAppManagementAssignmentFilter",
                        id: crate::buf::guid_string(f.guid),
                        props: vec![Prop::change(
                            "Rule",
                            "(device.deviceOwnership -eq \"Corporate\")",
                            "(device.deviceOwnership -eq \"Corporate\") and (device.osVersion -startsWith \"10.0.22\")",
                        )],
                    },
                )
            }
        };
        emit_audit(eng, &ev)?;
        Ok(())
    }
}
