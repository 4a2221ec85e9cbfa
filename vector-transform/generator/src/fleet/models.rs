//! The hardware models of each platform, with the OS releases (version, build) they run.

use super::Model;

const MAC_OS: &[(&str, &str)] = &[
    ("15.3.1", "24D70"),
    ("15.2", "24C101"),
    ("14.7.4", "23H420"),
];
const IOS_OS: &[(&str, &str)] = &[
    ("18.3.1", "22D72"),
    ("18.2.1", "22C161"),
    ("17.7.2", "21H221"),
];
const IPAD_OS: &[(&str, &str)] = &[("18.3", "22D63"), ("17.7", "21H16")];
const WIN_OS: &[(&str, &str)] = &[
    ("10.0.22631.4890", "22631"),
    ("10.0.26100.3194", "26100"),
    ("10.0.19045.5487", "19045"),
];
const ANDROID_OS: &[(&str, &str)] = &[("14", "AP2A.240805.005"), ("15", "AP4A.250205.002")];

pub(super) const MACS: [Model; 4] = [
    Model {
        name: "MacBook Pro (14-inch, M3, 2023)",
        product: "Mac15,3",
        manufacturer: "Apple",
        short: "MBP",
        os: MAC_OS,
    },
    Model {
        name: "MacBook Air (M2, 2022)",
        product: "Mac14,2",
        manufacturer: "Apple",
        short: "MBA",
        os: MAC_OS,
    },
    Model {
        name: "iMac (24-inch, M1, 2021)",
        product: "iMac21,1",
        manufacturer: "Apple",
        short: "IMAC",
        os: MAC_OS,
    },
    Model {
        name: "Mac mini (M2, 2023)",
        product: "Mac14,3",
        manufacturer: "Apple",
        short: "MINI",
        os: MAC_OS,
    },
];
pub(super) const IPHONES: [Model; 3] = [
    Model {
        name: "iPhone 15 Pro",
        product: "iPhone16,1",
        manufacturer: "Apple",
        short: "iPhone 15 Pro",
        os: IOS_OS,
    },
    Model {
        name: "iPhone 14",
        product: "iPhone14,7",
        manufacturer: "Apple",
        short: "iPhone 14",
        os: IOS_OS,
    },
    Model {
        name: "iPhone 16",
        product: "iPhone17,3",
        manufacturer: "Apple",
        short: "iPhone 16",
        os: IOS_OS,
    },
];
pub(super) const IPADS: [Model; 2] = [
    Model {
        name: "iPad Air (5th generation)",
        product: "iPad13,16",
        manufacturer: "Apple",
        short: "iPad Air",
        os: IPAD_OS,
    },
    Model {
        name: "iPad (10th generation)",
        product: "iPad13,18",
        manufacturer: "Apple",
        short: "iPad",
        os: IPAD_OS,
    },
];
pub(super) const PCS: [Model; 4] = [
    Model {
        name: "Latitude 7440",
        product: "Latitude",
        manufacturer: "Dell Inc.",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "ThinkPad T14 Gen 4",
        product: "21HD",
        manufacturer: "LENOVO",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "HP EliteBook 840 G10",
        product: "840G10",
        manufacturer: "HP",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "OptiPlex 7010",
        product: "OptiPlex",
        manufacturer: "Dell Inc.",
        short: "DESKTOP",
        os: WIN_OS,
    },
];
pub(super) const ANDROIDS: [Model; 3] = [
    Model {
        name: "Pixel 8 Pro",
        product: "husky",
        manufacturer: "Google",
        short: "Pixel 8 Pro",
        os: ANDROID_OS,
    },
    Model {
        name: "Galaxy S24",
        product: "SM-S921B",
        manufacturer: "samsung",
        short: "Galaxy S24",
        os: ANDROID_OS,
    },
    Model {
        name: "Galaxy XCover7",
        product: "SM-G556B",
        manufacturer: "samsung",
        short: "Galaxy XCover7",
        os: ANDROID_OS,
    },
];
