//! `mdm-audit generate`: a realistic, seeded MDM estate in the vendors' own wire formats, with planted
//! incidents and a ground-truth file.
//!
//! A simulated organisation (people with departments and home time zones, admins of Jamf Pro, Intune
//! and Workspace ONE with roles and business hours, API clients, a fleet of macOS, iOS, iPadOS, Windows
//! and Android devices, groups, policies and profiles) produces ordinary activity for `days` days, and
//! the selected scenarios are planted in it. Every record is written in the native format of its feed
//! ([`Feed`]), never as a normalized row, so `mdm-audit normalize` and Vector see what they would see in
//! production. The output is reproducible (own PRNG: same seed and options give the same bytes) and
//! streamed: a heap merges the processes by time, so memory does not grow with the number of records.

mod buf;
mod config;
mod directory;
mod engine;
mod error;
mod feeds;
mod fleet;
mod ground_truth;
mod noise;
mod render;
mod rng;
mod runner;
mod scenarios;
mod time;

pub use config::{
    GenerateConfig, MAX_DAYS, MAX_DEVICES, ScenarioKind, ScenarioSelection, ScenarioSizes,
    default_days, default_devices, default_events, default_seed, default_start,
};
pub use directory::{DEVICES_FILE, DIRECTORY_DIR, PEOPLE_FILE};
pub use error::{EstateGenerated, GenerateError};
pub use feeds::{DirSink, Feed, FeedSink, NullSink, StreamSink};
pub use ground_truth::{
    GROUND_TRUTH_FILE, GroundTruth, GtExpect, GtFeed, GtOptions, GtRecord, GtScenario,
};
pub use rng::{Rng, SplitMix64};
pub use runner::{GenerateReport, Prepared, generate, prepare};
pub use time::parse_date;
