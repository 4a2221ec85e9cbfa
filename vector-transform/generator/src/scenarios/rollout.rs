//! S4, `finance_baseline_rollout`: the Finance encryption baseline is created and assigned in Intune;
//! most devices comply, some fail encryption.

use crate::GenerateError;
use crate::buf::{guid_string, v4};
use crate::fleet::{DeviceClass, FINANCE, Mdm, Platform};
use crate::render::intune::{self, Actor, Category, FailingSetting, Op, Prop, Resource};
use crate::time::{MINUTE, SECOND};

use super::{Ctx, Effect, Planned, Rec, expect, owner_dept, step, too_small};

/// S4: the "Finance baseline" (BitLocker and FileVault profiles, an encryption compliance policy) is
/// created and assigned to the Finance devices; most comply, some fail encryption.
pub(super) fn rollout(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let n = ctx.config.sizes.rollout_devices as usize;
    let macs = ctx.take(&[DeviceClass::IntuneMac], n / 3, |f, i| {
        owner_dept(f, i) == Some(FINANCE)
    });
    let pcs = ctx.take(&[DeviceClass::IntuneWindows], n - macs.len(), |f, i| {
        owner_dept(f, i) == Some(FINANCE)
    });
    let mut targets: Vec<usize> = macs.into_iter().chain(pcs).collect();
    if targets.len() < n {
        return Err(too_small(
            "Finance devices in Intune",
            n,
            targets.len(),
            "--rollout-devices",
        ));
    }
    for i in (1..targets.len()).rev() {
        let j = ctx.rng.index(i + 1);
        targets.swap(i, j);
    }
    let pct = ctx.config.sizes.rollout_fail_pct as usize;
    let fails = if pct == 0 {
        0
    } else {
        (n * pct).div_ceil(100).clamp(1, n)
    };
    let a = ctx.admin(Mdm::Intune, "Policy and Profile Manager");
    let admin = ctx.fleet.admins[a].clone();
    let actor = Actor::User {
        upn: admin.account.clone(),
        object_id: admin.object_id,
    };
    let day = ctx.day(0.2, admin.tz, true);
    let t0 = ctx.at_jitter(admin.tz, day, 10, 0, 20);
    let group = ctx.fleet.intune_groups[0].guid; // "All Finance Devices"
    let group_id = guid_string(group);
    let mut steps = Vec::new();
    let mut t = t0;
    let policies: [(&'static str, &'static str, &'static str, &'static str); 2] = [
        (
            "Finance Baseline - Windows BitLocker",
            "windows10",
            "device_vendor_msft_bitlocker_requiredeviceencryption",
            "1",
        ),
        (
            "Finance Baseline - macOS FileVault",
            "macOS",
            "com.apple.mcx.filevault2_enable",
            "On",
        ),
    ];
    for (name, platform, setting, value) in policies {
        let policy_id = guid_string(v4(ctx.rng.next_u128()));
        let create = intune::simple_event(
            "Create DeviceManagementConfigurationPolicy",
            "DeviceConfiguration",
            Op::Create,
            Category::DeviceConfiguration,
            actor.clone(),
            t,
            &mut ctx.rng,
            Resource {
                name: Some(name.into()),
                rtype: "DeviceManagementConfigurationPolicy",
                id: policy_id.clone(),
                props: vec![
                    Prop::set("Name", name),
                    Prop::set(
                        "Description",
                        "Finance baseline: full-disk encryption with escrowed recovery keys",
                    ),
                    Prop::set("Platforms", platform),
                    Prop::set("Technologies", "mdm"),
                    Prop::set("Settings[0].SettingInstance.SettingDefinitionId", setting),
                    Prop::set("Settings[0].SettingInstance.Value", value),
                    Prop::api_version(false),
                ],
            },
        );
        // No rule fires: creating a profile (old values null) is neither a passcode nor an encryption
        // rollback (12/13_*.vrl), and a configuration profile is not code (19_code_exec_push.vrl).
        steps.push(step(
            t,
            "baseline_profile_created",
            Rec::Audit(Box::new(create)),
            expect(
                "Create DeviceManagementConfigurationPolicy",
                "create",
                Some("user"),
                Some("configuration_profile"),
                &[],
            ),
        ));
        t += ctx.rng.range(90, 200) * SECOND;
        let mut assign = intune::simple_event(
            "Create DeviceManagementConfigurationPolicyAssignment",
            "DeviceConfiguration",
            Op::Create,
            Category::DeviceConfiguration,
            actor.clone(),
            t,
            &mut ctx.rng,
            Resource {
                name: Some(name.into()),
                rtype: "DeviceManagementConfigurationPolicy",
                id: policy_id.clone(),
                props: Vec::new(),
            },
        );
        assign.resources.push(Resource {
            name: None,
            rtype: "DeviceManagementConfigurationPolicyAssignment",
            id: format!("{policy_id}_{group_id}"),
            props: vec![
                Prop::set("Target.GroupId", group_id.clone()),
                Prop::set("Target.Type", "GroupAssignmentTarget"),
                Prop::set("Target.DeviceAndAppManagementAssignmentFilterType", "None"),
                Prop::set("Source", "Direct"),
                Prop::set("SourceId", policy_id.clone()),
                Prop::api_version(false),
            ],
        });
        // A group target is not broad (18_broad_scope.vrl): no tag.
        steps.push(step(
            t,
            "baseline_profile_assigned",
            Rec::Audit(Box::new(assign)),
            expect(
                "Create DeviceManagementConfigurationPolicyAssignment",
                "assign",
                Some("user"),
                Some("profile_assignment"),
                &[],
            ),
        ));
        t += ctx.rng.range(240, 420) * SECOND;
    }
    let compliance_id = guid_string(v4(ctx.rng.next_u128()));
    let create = intune::simple_event(
        "Create DeviceCompliancePolicy",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor.clone(),
        t,
        &mut ctx.rng,
        Resource {
            name: Some("Finance - Require encryption".into()),
            rtype: "DeviceCompliancePolicy",
            id: compliance_id.clone(),
            props: vec![
                Prop::set("DisplayName", "Finance - Require encryption"),
                Prop::set("BitLockerEnabled", "true"),
                Prop::set("StorageRequireEncryption", "true"),
                Prop::set("SecureBootEnabled", "true"),
                Prop::api_version(false),
            ],
        },
    );
    steps.push(step(
        t,
        "compliance_policy_created",
        Rec::Audit(Box::new(create)),
        expect(
            "Create DeviceCompliancePolicy",
            "create",
            Some("user"),
            Some("compliance_policy"),
            &[],
        ),
    ));
    t += ctx.rng.range(60, 180) * SECOND;
    let mut assign = intune::simple_event(
        "Create DeviceCompliancePolicyAssignment",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor,
        t,
        &mut ctx.rng,
        Resource {
            name: Some("Finance - Require encryption".into()),
            rtype: "DeviceCompliancePolicy",
            id: compliance_id.clone(),
            props: Vec::new(),
        },
    );
    assign.resources.push(Resource {
        name: None,
        rtype: "DeviceCompliancePolicyAssignment",
        id: format!("{compliance_id}_{group_id}"),
        props: vec![
            Prop::set("Target.GroupId", group_id.clone()),
            Prop::set("Target.Type", "GroupAssignmentTarget"),
            Prop::set("Id", format!("{compliance_id}_{group_id}")),
            Prop::api_version(false),
        ],
    });
    steps.push(step(
        t,
        "compliance_policy_assigned",
        Rec::Audit(Box::new(assign)),
        expect(
            "Create DeviceCompliancePolicyAssignment",
            "assign",
            Some("user"),
            Some("policy_assignment"),
            &[],
        ),
    ));

    // Devices pick the baseline up over the next day as they check in.
    let mut t_dev = t + 25 * MINUTE;
    let mut names = Vec::new();
    for (k, &i) in targets.iter().enumerate() {
        t_dev += ctx.rng.range(3 * 60, 70 * 60) * SECOND;
        let fail = k < fails;
        let device = &ctx.fleet.devices[i];
        names.push(device.name.clone());
        if fail {
            let setting = if device.platform() == Platform::MacOs {
                FailingSetting {
                    policy: "MacOSCompliancePolicy",
                    setting: "StorageRequireEncryption",
                    rule: "Device_Encryption_FileVault2Encrypted",
                    expected: "Equals True",
                    actual: "False",
                    path: "SecurityInfo/FDE_Enabled",
                }
            } else {
                FailingSetting {
                    policy: "Windows10CompliancePolicy",
                    setting: "BitLockerEnabled",
                    rule: "Device_BitLocker_Enabled",
                    expected: "Equals True",
                    actual: "False",
                    path: "DeviceStatus/BitLocker/Status",
                }
            };
            // A compliance alert carries only the new state (old null), so encryption_disabled (which needs
            // true -> false, 13_encryption_disabled.vrl) does not fire: no tag.
            let mut s = step(
                t_dev,
                "encryption_failed",
                Rec::Noncompliant(i, setting, v4(ctx.rng.next_u128())),
                expect("Compliance", "compliance_change", None, Some("device"), &[]),
            );
            s.pre.push(Effect::State(i, false, false));
            steps.push(s);
        }
        let mut snap = step(
            t_dev + ctx.rng.range(2 * 60, 15 * 60) * SECOND,
            if fail {
                "snapshot_noncompliant"
            } else {
                "snapshot_compliant"
            },
            Rec::ManagedDevice(i),
            expect("managedDevice", "inventory", None, Some("device"), &[]),
        );
        if !fail {
            snap.pre.push(Effect::State(i, true, true));
        }
        snap.secret = device
            .lock_code
            .as_ref()
            .map(|_| "activationLockBypassCode");
        steps.push(snap);
    }
    let summary = format!(
        "{} {} ({}, {}) creates the Finance baseline (BitLocker and FileVault settings-catalog profiles and the 'Finance - Require encryption' compliance policy) and assigns it to 'All Finance Devices'. Over the next day {} of the {} devices report compliant and encrypted; {} fail encryption (OperationalLogs compliance alerts, noncompliant unencrypted snapshots).",
        admin.first,
        admin.last,
        admin.account,
        admin.role,
        n - fails,
        n,
        fails
    );
    Ok((steps, summary, vec![admin.account], names, &[]))
}
