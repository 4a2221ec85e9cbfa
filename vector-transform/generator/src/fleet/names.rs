//! Names: the first- and last-name pools people and admins are drawn from, and how each console names
//! its devices.

use std::collections::HashSet;

use crate::rng::Rng;

use super::{DEPARTMENTS, DeviceClass, Model, User};

pub(super) const FIRST: [&str; 64] = [
    "Anna",
    "Omar",
    "Sara",
    "Priya",
    "Marco",
    "Lidia",
    "Megan",
    "Adele",
    "Diego",
    "Joni",
    "Lee",
    "Patti",
    "Alex",
    "Isaiah",
    "Nestor",
    "Grady",
    "Lynne",
    "Miriam",
    "Pradeep",
    "Johanna",
    "Henrietta",
    "Irvin",
    "Raul",
    "Emily",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Carlos",
    "Dana",
    "Ethan",
    "Fiona",
    "Gabriel",
    "Helen",
    "Igor",
    "Jasmine",
    "Karl",
    "Leila",
    "Mohammed",
    "Nora",
    "Olivia",
];
pub(super) const LAST: [&str; 64] = [
    "Meyer",
    "Hassan",
    "Lindqvist",
    "Natarajan",
    "Rossi",
    "Holloway",
    "Bowen",
    "Vance",
    "Siciliani",
    "Sherman",
    "Gu",
    "Fernandez",
    "Wilber",
    "Langer",
    "Wilke",
    "Archie",
    "Robinson",
    "Graham",
    "Gupta",
    "Lauren",
    "Gerhart",
    "Kerr",
    "Castillo",
    "Chen",
    "Okafor",
    "Dubois",
    "Novak",
    "Petrov",
    "Ahmed",
    "Brennan",
    "Sato",
    "Ivanova",
    "Kowalski",
    "Tanaka",
    "Moreau",
    "Garcia",
    "Haddad",
    "Larsen",
    "Silva",
    "Murphy",
    "Alvarez",
    "Nakamura",
    "Schmidt",
    "Costa",
    "Okonkwo",
    "Park",
    "Nguyen",
    "Lopez",
    "Yilmaz",
    "Berg",
    "Fischer",
    "Kaur",
    "Reyes",
    "Walsh",
    "Kim",
    "Jensen",
    "Rahman",
    "Santos",
    "Weber",
    "Popescu",
    "Horvat",
    "Lindgren",
    "Mensah",
    "Oyelaran",
];

pub(super) fn f_lower(s: &str) -> String {
    s.to_lowercase()
}

pub(super) fn device_name(
    rng: &mut Rng,
    class: DeviceClass,
    model: &Model,
    user: Option<&User>,
    serial: &str,
    k: usize,
    taken: &mut HashSet<String>,
) -> String {
    let base = match (class, user) {
        (DeviceClass::JamfMac, Some(u)) => {
            let initial = u.first.chars().next().unwrap_or('X');
            let mut last: String = u
                .last
                .to_uppercase()
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect();
            last.truncate(8);
            format!("NW-{}-{}{}", model.short, initial, last)
        }
        (DeviceClass::JamfIphone | DeviceClass::IntuneIos, Some(u)) => {
            format!("{}'s iPhone", u.first)
        }
        (DeviceClass::JamfIpad, _) => format!("STORE{:02}-IPAD-{:02}", 1 + k / 12, 1 + k % 12),
        (DeviceClass::IntuneWindows, _) => {
            const C: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
            let mut s = format!("{}-", model.short);
            for _ in 0..7 {
                s.push(char::from(C[rng.index(C.len())]));
            }
            s
        }
        (DeviceClass::IntuneMac, Some(u)) => {
            let dept: String = DEPARTMENTS[u.dept as usize].0.chars().take(3).collect();
            format!("MBP-{}-{:04}", dept.to_uppercase(), 1 + rng.below(200))
        }
        (DeviceClass::IntuneAndroid, _) => model.name.to_owned(),
        (DeviceClass::Ws1Ios | DeviceClass::Ws1Android, Some(u)) => {
            // WS1 friendly name: "<user> <model> <serial>".
            format!(
                "{}{} {} {}",
                &u.first[..1].to_lowercase(),
                u.last.to_lowercase(),
                model.short,
                serial
            )
        }
        (_, _) => format!("{} {}", model.short, serial),
    };
    // Intune Android names repeat in real tenants; other consoles keep names unique.
    if class == DeviceClass::IntuneAndroid {
        return base;
    }
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = if class == DeviceClass::JamfIphone || class == DeviceClass::IntuneIos {
            format!("{base} ({n})")
        } else {
            format!("{base}{n}")
        };
        n += 1;
    }
    name
}
