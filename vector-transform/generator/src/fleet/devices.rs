//! The managed devices: models, owners, hardware identifiers, console ids and initial state, per
//! device class in the proportions of [`DeviceClass::MIX`].

use std::collections::HashSet;

use crate::buf::{guid_string, v4};
use crate::config::GenerateConfig;
use crate::rng::Rng;
use crate::time::DAY;

use super::models::{ANDROIDS, IPADS, IPHONES, MACS, PCS};
use super::names::device_name;
use super::{Device, DeviceClass, EXECUTIVE, FINANCE, Mdm, Model, Needs, OFFICES, Platform, User};

fn serial(rng: &mut Rng, prefix: &str, len: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut s = String::with_capacity(len);
    s.push_str(prefix);
    while s.len() < len {
        s.push(char::from(CHARS[rng.index(CHARS.len())]));
    }
    s
}

fn apple_udid(rng: &mut Rng, mac: bool) -> String {
    if mac {
        guid_string(rng.next_u128()).to_ascii_uppercase()
    } else {
        // 00008120-001A2C3E0E91401E
        format!(
            "0000{:04}-00{:014X}",
            8100 + rng.below(40),
            rng.next_u64() & 0x00FF_FFFF_FFFF_FFFF
        )
    }
}

fn imei(rng: &mut Rng) -> String {
    let mut s = String::from("35");
    while s.len() < 15 {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

/// The devices of every class (Finance owners first among Intune Windows and Macs), with the device
/// indices per class.
pub(super) fn devices(
    rng: &mut Rng,
    config: &GenerateConfig,
    needs: Needs,
    users: &[User],
) -> (Vec<Device>, Vec<Vec<u32>>) {
    let n_devices = config.devices as usize;
    let mut devices = Vec::with_capacity(n_devices);
    let mut by_class = vec![Vec::new(); DeviceClass::MIX.len()];
    let mut names = HashSet::new();
    let total_share: u32 = DeviceClass::MIX.iter().map(|c| c.1).sum();
    let mut jss_computer = 400u32;
    let mut jss_mobile = 1100u32;
    let mut ws1_id = 19_000u32;
    let finance_users: Vec<u32> = (0..users.len() as u32)
        .filter(|u| users[*u as usize].dept == FINANCE)
        .collect();
    let exec_users: Vec<u32> = (0..users.len() as u32)
        .filter(|u| users[*u as usize].dept == EXECUTIVE)
        .collect();
    let mut finance_assigned = 0u32;
    for (ci, (class, share)) in DeviceClass::MIX.iter().enumerate() {
        let mut count = (n_devices as u64 * u64::from(*share) / u64::from(total_share)) as usize;
        if ci == 0 {
            // Rounding leftovers go to the largest class.
            let sum: usize = DeviceClass::MIX
                .iter()
                .map(|(_, s)| (n_devices as u64 * u64::from(*s) / u64::from(total_share)) as usize)
                .sum();
            count += n_devices - sum;
        }
        for k in 0..count {
            let platform = class.platform();
            let model: &'static Model = match platform {
                Platform::MacOs => rng.pick(&MACS),
                Platform::Ios => rng.pick(&IPHONES),
                Platform::IpadOs => rng.pick(&IPADS),
                Platform::Windows => rng.pick(&PCS),
                Platform::Android => rng.pick(&ANDROIDS),
            };
            let shared = *class == DeviceClass::JamfIpad;
            // Finance devices first among Intune Windows and Macs; executives get iPhones in WS1 and
            // Macs in Jamf first.
            let owner: Option<u32> = if shared {
                None
            } else if matches!(class, DeviceClass::IntuneWindows | DeviceClass::IntuneMac)
                && finance_assigned < needs.finance_intune.max(4)
                && !finance_users.is_empty()
            {
                finance_assigned += 1;
                Some(finance_users[(finance_assigned as usize - 1) % finance_users.len()])
            } else if matches!(class, DeviceClass::Ws1Ios | DeviceClass::JamfMac)
                && k < exec_users.len()
            {
                Some(exec_users[k])
            } else {
                Some(rng.below(users.len() as u64) as u32)
            };
            let user = owner.map(|u| &users[u as usize]);
            let dept = user.map_or(8, |u| u.dept);
            let mac_addr = {
                let r = rng.next_u64().to_be_bytes();
                [0x3c, r[1], r[2], r[3], r[4], r[5]]
            };
            let office = user.map_or(0, |u| u.office as usize);
            let ip = {
                let p = OFFICES[office].3;
                if rng.chance(0.5) {
                    [
                        10,
                        20 + office as u8,
                        rng.below(16) as u8,
                        2 + rng.below(250) as u8,
                    ]
                } else {
                    [p[0], p[1], p[2], 2 + rng.below(250) as u8]
                }
            };
            let (serial_no, udid) = match platform {
                Platform::MacOs => {
                    let prefix = if rng.chance(0.5) { "C02" } else { "FVF" };
                    (serial(rng, prefix, 12), apple_udid(rng, true))
                }
                Platform::Ios | Platform::IpadOs => (
                    serial(
                        rng,
                        if platform == Platform::Ios {
                            "G6T"
                        } else {
                            "DMP"
                        },
                        12,
                    ),
                    apple_udid(rng, false),
                ),
                Platform::Windows => (serial(rng, "PF", 8), String::new()),
                Platform::Android => (
                    if model.manufacturer == "Google" {
                        serial(rng, "3A", 14)
                    } else {
                        serial(rng, "R5C", 11)
                    },
                    format!("{:032x}", rng.next_u128()),
                ),
            };
            let name = device_name(rng, *class, model, user, &serial_no, k, &mut names);
            let is_phone = matches!(platform, Platform::Ios | Platform::Android);
            let company = shared || platform != Platform::Android || rng.chance(0.6);
            let supervised = matches!(platform, Platform::Ios | Platform::IpadOs) && company;
            let lock_code = (class.mdm() == Mdm::Intune && supervised).then(|| {
                let mut s = String::new();
                for g in 0..6 {
                    if g > 0 {
                        s.push('-');
                    }
                    s.push_str(&serial(rng, "", 4));
                }
                s
            });
            let jss_id = match class {
                DeviceClass::JamfMac => {
                    jss_computer += 1 + rng.below(3) as u32;
                    jss_computer
                }
                DeviceClass::JamfIphone | DeviceClass::JamfIpad => {
                    jss_mobile += 1 + rng.below(3) as u32;
                    jss_mobile
                }
                _ => 0,
            };
            let ws1 = if class.mdm() == Mdm::Ws1 {
                ws1_id += 1 + rng.below(40) as u32;
                ws1_id
            } else {
                0
            };
            let enrolled =
                config.start - (30 + rng.below(700) as i64) * DAY + rng.below(DAY as u64) as i64;
            let os = rng.index(model.os.len());
            let idx = devices.len() as u32;
            devices.push(Device {
                class: *class,
                model,
                os,
                owner,
                dept,
                name,
                serial: serial_no,
                udid,
                jss_id,
                management_id: v4(rng.next_u128()),
                intune_id: v4(rng.next_u128()),
                aad_id: v4(rng.next_u128()),
                ws1_id: ws1,
                mac: mac_addr,
                ip,
                imei: if is_phone { imei(rng) } else { String::new() },
                enrolled,
                active: true,
                compliant: !rng.chance(0.06),
                encrypted: !rng.chance(0.03),
                supervised,
                company,
                lock_code,
                pending_action: None,
                reserved: false,
            });
            by_class[ci].push(idx);
        }
    }
    (devices, by_class)
}
