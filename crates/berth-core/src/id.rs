//! Object ids and container names.

use std::fs::File;
use std::io::Read;

/// Length of a full object id in hex digits.
pub const ID_LEN: usize = 64;
/// Length of the short id that `docker ps` shows.
pub const SHORT_ID_LEN: usize = 12;

/// A fresh random 64-hex-digit id; never all digits, so it cannot be mistaken for a number
/// (Docker avoids those too, because a short id like `123456789012` reads as an integer).
pub fn generate() -> String {
    loop {
        let mut bytes = [0u8; 32];
        // /dev/urandom never blocks and exists on every Linux host berth supports.
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .expect("reading /dev/urandom");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..SHORT_ID_LEN].bytes().all(|c| c.is_ascii_digit()) {
            return id;
        }
    }
}

/// The 12-digit form of an id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(SHORT_ID_LEN)]
}

/// Whether `s` is a full lowercase-hex id.
pub fn is_full_id(s: &str) -> bool {
    s.len() == ID_LEN && is_hex(s)
}

/// Whether `s` is non-empty lowercase hex.
pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` (without its leading `/`) is a valid container name: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

const LEFT: &[&str] = &[
    "admiring",
    "adoring",
    "affectionate",
    "agitated",
    "amazing",
    "angry",
    "awesome",
    "beautiful",
    "blissful",
    "bold",
    "boring",
    "brave",
    "busy",
    "charming",
    "clever",
    "compassionate",
    "competent",
    "condescending",
    "confident",
    "cool",
    "cranky",
    "crazy",
    "dazzling",
    "determined",
    "distracted",
    "dreamy",
    "eager",
    "ecstatic",
    "elastic",
    "elated",
    "elegant",
    "eloquent",
    "epic",
    "exciting",
    "fervent",
    "festive",
    "flamboyant",
    "focused",
    "friendly",
    "frosty",
    "funny",
    "gallant",
    "gifted",
    "goofy",
    "gracious",
    "great",
    "happy",
    "hardcore",
    "heuristic",
    "hopeful",
    "hungry",
    "infallible",
    "inspiring",
    "intelligent",
    "interesting",
    "jolly",
    "jovial",
    "keen",
    "kind",
    "laughing",
    "loving",
    "lucid",
    "magical",
    "modest",
    "musing",
    "mystifying",
    "naughty",
    "nervous",
    "nice",
    "nifty",
    "nostalgic",
    "objective",
    "optimistic",
    "peaceful",
    "pedantic",
    "pensive",
    "practical",
    "priceless",
    "quirky",
    "quizzical",
    "relaxed",
    "reverent",
    "romantic",
    "sad",
    "serene",
    "sharp",
    "silly",
    "sleepy",
    "stoic",
    "strange",
    "stupefied",
    "suspicious",
    "sweet",
    "tender",
    "thirsty",
    "trusting",
    "upbeat",
    "vibrant",
    "vigilant",
    "vigorous",
    "wizardly",
    "wonderful",
    "xenodochial",
    "youthful",
    "zealous",
    "zen",
];

const RIGHT: &[&str] = &[
    "agnesi",
    "albattani",
    "allen",
    "archimedes",
    "babbage",
    "banach",
    "bardeen",
    "bartik",
    "bhabha",
    "blackwell",
    "bohr",
    "booth",
    "borg",
    "bose",
    "brahmagupta",
    "brown",
    "carson",
    "cerf",
    "chandrasekhar",
    "clarke",
    "curie",
    "darwin",
    "davinci",
    "dijkstra",
    "easley",
    "einstein",
    "elion",
    "engelbart",
    "euclid",
    "euler",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "goldberg",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hermann",
    "hodgkin",
    "hofstadter",
    "hopper",
    "hypatia",
    "jackson",
    "jennings",
    "johnson",
    "kalam",
    "kepler",
    "khorana",
    "knuth",
    "kowalevski",
    "lalande",
    "lamarr",
    "lamport",
    "leakey",
    "lovelace",
    "lumiere",
    "mayer",
    "mccarthy",
    "mcclintock",
    "meitner",
    "mendel",
    "merkle",
    "mirzakhani",
    "montalcini",
    "moore",
    "morse",
    "napier",
    "nash",
    "newton",
    "nobel",
    "noether",
    "noyce",
    "pare",
    "pascal",
    "pasteur",
    "perlman",
    "pike",
    "poincare",
    "ptolemy",
    "raman",
    "ramanujan",
    "ritchie",
    "rosalind",
    "sammet",
    "shannon",
    "shockley",
    "sinoussi",
    "stonebraker",
    "swanson",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "varahamihira",
    "visvesvaraya",
    "wescoff",
    "wiles",
    "williams",
    "wilson",
    "wing",
    "wozniak",
    "wright",
    "yalow",
    "yonath",
];

/// A random `adjective_scientist` name as Docker gives unnamed containers; `retry` > 0 appends
/// a digit, as Docker does when the first pick is taken.
pub fn random_name(retry: u32) -> String {
    let mut b = [0u8; 4];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("reading /dev/urandom");
    let l = LEFT[usize::from(b[0]) % LEFT.len()];
    let r = RIGHT[(usize::from(b[1]) << 8 | usize::from(b[2])) % RIGHT.len()];
    if retry > 0 {
        format!("{l}_{r}{}", b[3] % 10)
    } else {
        format!("{l}_{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_not_numeric() {
        let id = generate();
        assert!(is_full_id(&id), "{id}");
        assert!(!short(&id).bytes().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn names() {
        assert!(valid_name("web_1.a-b"));
        assert!(!valid_name("a"));
        assert!(!valid_name("-web"));
        assert!(!valid_name("we/b"));
        assert!(valid_name(&random_name(0)));
        assert!(valid_name(&random_name(3)));
    }
}
