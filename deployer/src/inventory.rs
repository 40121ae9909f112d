//! The site inventory CSV (`data/sites.csv`): parsing and whole-file validation.
//!
//! Every problem in the file is collected with its line number before anything is sent, so an
//! operator fixes the file once instead of discovering errors one transaction at a time. Each
//! site keeps the exact bytes of its line: `recordHash` on chain is keccak256 of those bytes.

use std::{collections::HashMap, fmt, path::Path};

use alloy::primitives::{B256, keccak256};

/// The header the inventory must start with (column order matters to readers of the file).
pub(crate) const HEADER: &str = "site,tier,phase,parent,iata,city,country,lat,lon,tz";
const COLUMNS: usize = 10;

/// A site tier, as in the contracts' `Tier` enum (0 is "none" and never valid input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Tier {
    Core = 1,
    Regional = 2,
    Edge = 3,
}

impl Tier {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "core" => Some(Self::Core),
            "regional" => Some(Self::Regional),
            "edge" => Some(Self::Edge),
            _ => None,
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Core),
            2 => Some(Self::Regional),
            3 => Some(Self::Edge),
            _ => None,
        }
    }

    /// The tier a parent of this tier must have (`None` for core: no parent).
    pub(crate) fn parent_tier(self) -> Option<Self> {
        match self {
            Self::Core => None,
            Self::Regional => Some(Self::Core),
            Self::Edge => Some(Self::Regional),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Regional => "regional",
            Self::Edge => "edge",
        }
    }

    pub(crate) const ALL: [Self; 3] = [Self::Core, Self::Regional, Self::Edge];
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One validated inventory row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Site {
    /// 1-based line number in the file.
    pub(crate) line: usize,
    pub(crate) name: String,
    pub(crate) id: B256,
    pub(crate) tier: Tier,
    pub(crate) phase: u8,
    pub(crate) parent: Option<String>,
    pub(crate) iata: String,
    pub(crate) city: String,
    pub(crate) country: String,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    pub(crate) tz: String,
    /// keccak256 of the exact line bytes, without the line ending.
    pub(crate) record_hash: B256,
}

impl Site {
    pub(crate) fn parent_id(&self) -> B256 {
        self.parent
            .as_deref()
            .map(|p| site_id(p).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// What is wrong with one line of the inventory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Problem {
    #[error("the file is empty; expected the header `{HEADER}`")]
    Empty,
    #[error("the header is `{found}`; expected `{HEADER}`")]
    BadHeader { found: String },
    #[error("the line is not valid UTF-8 (byte {offset}); save the file as UTF-8")]
    BadUtf8 { offset: usize },
    #[error("the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8")]
    Utf16,
    #[error(
        "the line holds a carriage return (\\r) that does not end it (old Mac line endings?); \
         save the file with LF or CRLF line endings"
    )]
    LoneCarriageReturn,
    #[error("the file has the header but no sites; add one line per site")]
    NoSites,
    #[error("malformed CSV: {reason}")]
    Malformed { reason: String },
    #[error("{found} columns; expected {COLUMNS} ({HEADER})")]
    ColumnCount { found: usize },
    #[error("site name `{name}` is invalid: it must be 1..31 characters of a-z, 0-9 and `-`")]
    BadName { name: String },
    #[error("unknown tier `{tier}`; expected core, regional or edge")]
    UnknownTier { tier: String },
    #[error("phase `{phase}` is invalid; expected 1, 2 or 3")]
    BadPhase { phase: String },
    #[error("site `{name}` is a duplicate of line {first_line}")]
    Duplicate { name: String, first_line: usize },
    #[error("a core site has no parent, but `{parent}` is given")]
    CoreWithParent { parent: String },
    #[error("a {tier} site needs a {needed} parent, and the parent column is empty")]
    MissingParent { tier: Tier, needed: Tier },
    #[error("parent `{parent}` is not a site in this file")]
    UnknownParent { parent: String },
    #[error("parent `{parent}` is a {found} site; a {tier} site needs a {needed} parent")]
    WrongParentTier {
        parent: String,
        tier: Tier,
        found: Tier,
        needed: Tier,
    },
    #[error("parent `{parent}` is in phase {parent_phase}, later than this site's phase {phase}")]
    ParentInLaterPhase {
        parent: String,
        parent_phase: u8,
        phase: u8,
    },
    #[error("latitude `{value}` is invalid; expected a number in -90..=90")]
    BadLatitude { value: String },
    #[error("longitude `{value}` is invalid; expected a number in -180..=180")]
    BadLongitude { value: String },
    #[error("time zone `{tz}` is not an IANA time zone name (e.g. Europe/Berlin)")]
    BadTimeZone { tz: String },
    #[error("time zone `{tz}` must be spelled as in the IANA database: `{canonical}`")]
    TimeZoneSpelling { tz: String, canonical: String },
    #[error("IATA code `{code}` is invalid; expected three capital letters")]
    BadIata { code: String },
    #[error("country `{code}` is invalid; expected an ISO 3166 alpha-2 code (two capital letters)")]
    BadCountry { code: String },
    #[error("the city is empty")]
    EmptyCity,
    #[error("the city holds a control character (U+{code:04X}); remove it")]
    ControlInCity { code: u32 },
}

/// A problem and the 1-based line it is on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineProblem {
    pub(crate) line: usize,
    pub(crate) problem: Problem,
}

/// Every problem found in a file; nothing may be sent while this is non-empty.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) struct InvalidInventory {
    pub(crate) file: String,
    pub(crate) problems: Vec<LineProblem>,
}

impl fmt::Display for InvalidInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} has {} problem(s); nothing was sent. Fix them and run the import again:",
            self.file,
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  {}:{}: {}", self.file, p.line, p.problem)?;
        }
        Ok(())
    }
}

/// The site id: the name's bytes left-aligned in a bytes32 (docs/contracts.md).
pub(crate) fn site_id(name: &str) -> Option<B256> {
    if !valid_name(name) {
        return None;
    }
    let mut id = [0u8; 32];
    id[..name.len()].copy_from_slice(name.as_bytes());
    Some(B256::from(id))
}

/// The name back from an id (for display of on-chain data); hex when it is not a valid name.
pub(crate) fn site_name(id: &B256) -> String {
    let end = id.iter().position(|b| *b == 0).unwrap_or(32);
    match std::str::from_utf8(&id[..end]) {
        Ok(name) if valid_name(name) && id[end..].iter().all(|b| *b == 0) => name.to_string(),
        _ => id.to_string(),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=31).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Reads and validates an inventory file.
pub(crate) fn load(path: &Path) -> anyhow::Result<Vec<Site>> {
    use anyhow::Context;
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the inventory {}", path.display()))?;
    Ok(parse(&path.display().to_string(), &bytes)?)
}

/// Validates the whole file and returns its sites in file order, or every problem found.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Vec<Site>, InvalidInventory> {
    let mut problems = Vec::new();
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(InvalidInventory {
            file: file.to_string(),
            problems: vec![LineProblem {
                line: 1,
                problem: Problem::Utf16,
            }],
        });
    }
    let mut push = |line: usize, problem: Problem| problems.push(LineProblem { line, problem });
    // A UTF-8 byte-order mark (spreadsheets write one) only touches the header, which is not
    // hashed, so it is dropped rather than refused.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut lines = split_lines(bytes);
    match lines.next() {
        None => push(1, Problem::Empty),
        Some(header) if header.contains(&b'\r') => push(1, Problem::LoneCarriageReturn),
        Some(header) => match std::str::from_utf8(header) {
            Err(e) => push(
                1,
                Problem::BadUtf8 {
                    offset: e.valid_up_to() + 1,
                },
            ),
            Ok(found) if found != HEADER => push(
                1,
                Problem::BadHeader {
                    found: found.to_string(),
                },
            ),
            Ok(_) => {}
        },
    }

    let mut sites: Vec<Site> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (index, raw) in lines.enumerate() {
        let line = index + 2;
        if raw.is_empty() {
            continue;
        }
        if raw.contains(&b'\r') {
            push(line, Problem::LoneCarriageReturn);
            continue;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text,
            Err(e) => {
                push(
                    line,
                    Problem::BadUtf8 {
                        offset: e.valid_up_to() + 1,
                    },
                );
                continue;
            }
        };
        let fields = match split_fields(text) {
            Ok(f) => f,
            Err(reason) => {
                push(line, Problem::Malformed { reason });
                continue;
            }
        };
        if fields.len() != COLUMNS {
            push(
                line,
                Problem::ColumnCount {
                    found: fields.len(),
                },
            );
            continue;
        }
        match row(line, raw, &fields) {
            Ok(site) => {
                if let Some(&first) = first_line.get(&site.name) {
                    push(
                        line,
                        Problem::Duplicate {
                            name: site.name.clone(),
                            first_line: first,
                        },
                    );
                } else {
                    first_line.insert(site.name.clone(), line);
                    sites.push(site);
                }
            }
            Err(row_problems) => row_problems.into_iter().for_each(|p| push(line, p)),
        }
    }

    // Parents are checked once every site is known, so the file may list them in any order.
    let by_name: HashMap<&str, &Site> = sites.iter().map(|s| (s.name.as_str(), s)).collect();
    for site in &sites {
        if let Some(problem) = parent_problem(site, &by_name) {
            push(site.line, problem);
        }
    }

    if problems.is_empty() && sites.is_empty() {
        problems.push(LineProblem {
            line: 1,
            problem: Problem::NoSites,
        });
    }
    if problems.is_empty() {
        Ok(sites)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(InvalidInventory {
            file: file.to_string(),
            problems,
        })
    }
}

/// Orders sites so that every parent comes before its children (core, then regional, then
/// edge; file order within a tier), which the registry requires within and across batches.
pub(crate) fn registration_order(sites: &[Site]) -> Vec<&Site> {
    let mut ordered: Vec<&Site> = sites.iter().collect();
    ordered.sort_by_key(|s| (s.tier, s.line));
    ordered
}

fn parent_problem(site: &Site, by_name: &HashMap<&str, &Site>) -> Option<Problem> {
    match (site.tier.parent_tier(), site.parent.as_deref()) {
        (None, None) => None,
        (None, Some(parent)) => Some(Problem::CoreWithParent {
            parent: parent.to_string(),
        }),
        (Some(needed), None) => Some(Problem::MissingParent {
            tier: site.tier,
            needed,
        }),
        (Some(needed), Some(parent)) => match by_name.get(parent) {
            None => Some(Problem::UnknownParent {
                parent: parent.to_string(),
            }),
            Some(p) if p.tier != needed => Some(Problem::WrongParentTier {
                parent: parent.to_string(),
                tier: site.tier,
                found: p.tier,
                needed,
            }),
            Some(p) if p.phase > site.phase => Some(Problem::ParentInLaterPhase {
                parent: parent.to_string(),
                parent_phase: p.phase,
                phase: site.phase,
            }),
            Some(_) => None,
        },
    }
}

fn row(line: usize, raw: &[u8], f: &[String]) -> Result<Site, Vec<Problem>> {
    let mut problems = Vec::new();
    let name = f[0].clone();
    let id = site_id(&name);
    if id.is_none() {
        problems.push(Problem::BadName { name: name.clone() });
    }
    let tier = Tier::parse(&f[1]);
    if tier.is_none() {
        problems.push(Problem::UnknownTier { tier: f[1].clone() });
    }
    let phase = f[2].parse::<u8>().ok().filter(|p| (1..=3).contains(p));
    if phase.is_none() {
        problems.push(Problem::BadPhase {
            phase: f[2].clone(),
        });
    }
    let parent = (!f[3].is_empty()).then(|| f[3].clone());
    if let Some(p) = &parent
        && !valid_name(p)
    {
        problems.push(Problem::BadName { name: p.clone() });
    }
    let iata = f[4].clone();
    if !(iata.len() == 3 && iata.bytes().all(|b| b.is_ascii_uppercase())) {
        problems.push(Problem::BadIata { code: iata.clone() });
    }
    let city = f[5].clone();
    if city.trim().is_empty() {
        problems.push(Problem::EmptyCity);
    }
    // The record hash covers the city: a NUL or an escape sequence would be registered for
    // good, and shown to every operator's terminal.
    if let Some(c) = city.chars().find(|c| c.is_control()) {
        problems.push(Problem::ControlInCity { code: u32::from(c) });
    }
    let country = f[6].clone();
    if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
        problems.push(Problem::BadCountry {
            code: country.clone(),
        });
    }
    let lat = coordinate(&f[7], 90.0);
    if lat.is_none() {
        problems.push(Problem::BadLatitude {
            value: f[7].clone(),
        });
    }
    let lon = coordinate(&f[8], 180.0);
    if lon.is_none() {
        problems.push(Problem::BadLongitude {
            value: f[8].clone(),
        });
    }
    let tz = f[9].clone();
    // The bundled IANA database, not the host's: validation must not depend on where it runs.
    match jiff::tz::db().get(&tz) {
        Err(_) => problems.push(Problem::BadTimeZone { tz: tz.clone() }),
        // The lookup ignores case; the line (and its hash) should carry the real name.
        Ok(zone) => match zone.iana_name() {
            Some(canonical) if canonical != tz => problems.push(Problem::TimeZoneSpelling {
                tz: tz.clone(),
                canonical: canonical.to_string(),
            }),
            _ => {}
        },
    }
    match (id, tier, phase, lat, lon) {
        (Some(id), Some(tier), Some(phase), Some(lat), Some(lon)) if problems.is_empty() => {
            Ok(Site {
                line,
                name,
                id,
                tier,
                phase,
                parent,
                iata,
                city,
                country,
                lat,
                lon,
                tz,
                record_hash: keccak256(raw),
            })
        }
        _ => Err(problems),
    }
}

fn coordinate(s: &str, bound: f64) -> Option<f64> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= bound)
}

/// Splits on `\n`, dropping one trailing `\r` (the hash covers the line without its ending).
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    body.split(|b| *b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn split_fields(line: &str) -> Result<Vec<String>, String> {
    // The csv reader takes an unclosed quote to the end of the line without complaint; a field
    // with a line break in it (which is what an unclosed quote usually is) is not supported,
    // because every site must be exactly one line.
    if line.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
        return Err(
            "a quoted field is not closed (a field may not span lines); close or remove the quote"
                .to_string(),
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(str::to_string).collect()),
        Ok(false) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "site,tier,phase,parent,iata,city,country,lat,lon,tz
core-fra,core,1,,FRA,Frankfurt am Main,DE,50.026400,8.543130,Europe/Berlin
regional-ist,regional,2,core-fra,IST,\"Arnavutköy, Istanbul\",TR,41.275330,28.752000,Europe/Istanbul
edge-ber,edge,2,regional-ist,BER,Berlin,DE,52.36,13.50,Europe/Berlin
";

    fn problems(text: &str) -> Vec<(usize, Problem)> {
        parse("t.csv", text.as_bytes())
            .expect_err("must be rejected")
            .problems
            .into_iter()
            .map(|p| (p.line, p.problem))
            .collect()
    }

    fn with_line(line: &str) -> String {
        format!("{GOOD}{line}\n")
    }

    #[test]
    fn good_file_parses_with_exact_line_hashes() {
        let sites = parse("t.csv", GOOD.as_bytes()).expect("valid");
        assert_eq!(sites.len(), 3);
        let line = "regional-ist,regional,2,core-fra,IST,\"Arnavutköy, Istanbul\",TR,41.275330,28.752000,Europe/Istanbul";
        assert_eq!(sites[1].record_hash, keccak256(line.as_bytes()));
        assert_eq!(sites[1].city, "Arnavutköy, Istanbul");
        assert_eq!(sites[1].line, 3);
        assert_eq!(&sites[0].id[..8], b"core-fra");
        assert_eq!(site_name(&sites[0].id), "core-fra");
    }

    #[test]
    fn crlf_line_endings_hash_without_the_cr() {
        let text = GOOD.replace('\n', "\r\n");
        let sites = parse("t.csv", text.as_bytes()).expect("valid");
        let line = "core-fra,core,1,,FRA,Frankfurt am Main,DE,50.026400,8.543130,Europe/Berlin";
        assert_eq!(sites[0].record_hash, keccak256(line.as_bytes()));
    }

    #[test]
    fn the_real_inventory_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sites.csv");
        let sites = load(&path).expect("data/sites.csv is valid");
        assert_eq!(sites.len(), 325);
        let count = |t| sites.iter().filter(|s| s.tier == t).count();
        assert_eq!(
            (count(Tier::Core), count(Tier::Regional), count(Tier::Edge)),
            (15, 60, 250)
        );
    }

    #[test]
    fn unknown_tier() {
        let p = problems(&with_line(
            "edge-x,metro,2,regional-ist,XXX,X,DE,1,1,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::UnknownTier {
                    tier: "metro".into()
                }
            )]
        );
    }

    #[test]
    fn missing_parent() {
        let p = problems(&with_line("edge-x,edge,2,,XXX,X,DE,1,1,Europe/Berlin"));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::MissingParent {
                    tier: Tier::Edge,
                    needed: Tier::Regional
                }
            )]
        );
    }

    #[test]
    fn unknown_parent() {
        let p = problems(&with_line(
            "edge-x,edge,2,regional-nowhere,XXX,X,DE,1,1,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::UnknownParent {
                    parent: "regional-nowhere".into()
                }
            )]
        );
    }

    #[test]
    fn wrong_tier_parent() {
        let p = problems(&with_line(
            "edge-x,edge,2,core-fra,XXX,X,DE,1,1,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::WrongParentTier {
                    parent: "core-fra".into(),
                    tier: Tier::Edge,
                    found: Tier::Core,
                    needed: Tier::Regional
                }
            )]
        );
    }

    #[test]
    fn core_with_parent() {
        let p = problems(&with_line(
            "core-x,core,1,core-fra,XXX,X,DE,1,1,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::CoreWithParent {
                    parent: "core-fra".into()
                }
            )]
        );
    }

    #[test]
    fn parent_in_a_later_phase() {
        let p = problems(&with_line(
            "edge-x,edge,1,regional-ist,XXX,X,DE,1,1,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::ParentInLaterPhase {
                    parent: "regional-ist".into(),
                    parent_phase: 2,
                    phase: 1
                }
            )]
        );
    }

    #[test]
    fn duplicate_id() {
        let p = problems(&with_line(
            "core-fra,core,1,,FRA,Frankfurt,DE,50,8,Europe/Berlin",
        ));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::Duplicate {
                    name: "core-fra".into(),
                    first_line: 2
                }
            )]
        );
    }

    #[test]
    fn bad_coordinates() {
        let p = problems(&with_line("core-x,core,1,,XXX,X,DE,91.5,abc,Europe/Berlin"));
        assert_eq!(
            p,
            vec![
                (
                    5,
                    Problem::BadLatitude {
                        value: "91.5".into()
                    }
                ),
                (
                    5,
                    Problem::BadLongitude {
                        value: "abc".into()
                    }
                )
            ]
        );
    }

    #[test]
    fn bad_time_zone() {
        let p = problems(&with_line("core-x,core,1,,XXX,X,DE,1,1,Europe/Atlantis"));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::BadTimeZone {
                    tz: "Europe/Atlantis".into()
                }
            )]
        );
    }

    #[test]
    fn bad_utf8() {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.extend_from_slice(b"core-x,core,1,,XXX,M\xfcnchen,DE,1,1,Europe/Berlin\n");
        let err = parse("t.csv", &bytes).expect_err("must be rejected");
        assert_eq!(
            err.problems,
            vec![LineProblem {
                line: 5,
                problem: Problem::BadUtf8 { offset: 21 }
            }]
        );
    }

    #[test]
    fn bad_name_and_phase_and_columns() {
        let p = problems(&format!(
            "{GOOD}Core_X,core,4,,XXX,X,DE,1,1,Europe/Berlin\ncore-y,core,1\n"
        ));
        assert_eq!(
            p,
            vec![
                (
                    5,
                    Problem::BadName {
                        name: "Core_X".into()
                    }
                ),
                (5, Problem::BadPhase { phase: "4".into() }),
                (6, Problem::ColumnCount { found: 3 })
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = format!(
            "{GOOD}edge-a,edge,2,,AAA,X,DE,1,1,Europe/Berlin\nedge-b,metro,2,regional-ist,BBB,X,DE,1,1,UTC\n"
        );
        let err = parse("t.csv", text.as_bytes()).expect_err("rejected");
        let lines: Vec<usize> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 6]);
        let shown = err.to_string();
        assert!(
            shown.contains("t.csv:5:") && shown.contains("t.csv:6:"),
            "{shown}"
        );
    }

    #[test]
    fn bad_header() {
        let p = problems("name,tier\n");
        assert_eq!(
            p,
            vec![(
                1,
                Problem::BadHeader {
                    found: "name,tier".into()
                }
            )]
        );
    }

    #[test]
    fn regress_utf8_bom_is_accepted_and_utf16_is_named() {
        let with_bom = [b"\xef\xbb\xbf".as_slice(), GOOD.as_bytes()].concat();
        let sites = parse("t.csv", &with_bom).expect("a UTF-8 BOM is dropped");
        assert_eq!(sites.len(), 3);
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let err = parse("t.csv", &utf16).expect_err("UTF-16 is refused");
        assert_eq!(
            err.problems,
            vec![LineProblem {
                line: 1,
                problem: Problem::Utf16
            }]
        );
    }

    #[test]
    fn regress_cr_only_line_endings_are_named() {
        let p = problems(&GOOD.replace('\n', "\r"));
        assert_eq!(p, vec![(1, Problem::LoneCarriageReturn)]);
        let p = problems(&with_line("core-x,core,1,,XXX,X\rY,DE,1,1,Europe/Berlin"));
        assert_eq!(p, vec![(5, Problem::LoneCarriageReturn)]);
    }

    #[test]
    fn regress_header_not_utf8_is_named_as_encoding() {
        let err = parse("t.csv", b"site,tier,\xfc\n").expect_err("rejected");
        assert_eq!(
            err.problems,
            vec![LineProblem {
                line: 1,
                problem: Problem::BadUtf8 { offset: 11 }
            }]
        );
    }

    #[test]
    fn regress_unclosed_quote_is_malformed_not_a_column_count() {
        let text = format!("{GOOD}core-x,core,1,,XXX,\"Frank\nfurt\",DE,1,1,Europe/Berlin\n");
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        for (line, (at, problem)) in [5, 6].into_iter().zip(p) {
            assert_eq!(at, line);
            assert!(
                matches!(&problem, Problem::Malformed { reason } if reason.contains("not closed")),
                "{problem:?}"
            );
        }
    }

    #[test]
    fn regress_header_only_file_has_no_sites() {
        assert_eq!(
            problems(&format!("{HEADER}\n")),
            vec![(1, Problem::NoSites)]
        );
        assert_eq!(
            problems(&format!("{HEADER}\n\n\n")),
            vec![(1, Problem::NoSites)]
        );
    }

    #[test]
    fn regress_control_characters_in_the_city_are_refused() {
        for (city, code) in [("Ber\u{0}lin", 0), ("\u{1b}[31mBerlin", 0x1b)] {
            let p = problems(&with_line(&format!(
                "core-x,core,1,,XXX,{city},DE,1,1,Europe/Berlin"
            )));
            assert_eq!(p, vec![(5, Problem::ControlInCity { code })], "{city:?}");
        }
    }

    #[test]
    fn regress_time_zone_in_the_wrong_case_is_refused() {
        let p = problems(&with_line("core-x,core,1,,XXX,X,DE,1,1,europe/berlin"));
        assert_eq!(
            p,
            vec![(
                5,
                Problem::TimeZoneSpelling {
                    tz: "europe/berlin".into(),
                    canonical: "Europe/Berlin".into()
                }
            )]
        );
    }

    #[test]
    fn registration_order_puts_parents_first() {
        let text = "site,tier,phase,parent,iata,city,country,lat,lon,tz
edge-ber,edge,2,regional-ist,BER,Berlin,DE,52.36,13.50,Europe/Berlin
regional-ist,regional,2,core-fra,IST,Istanbul,TR,41.2,28.7,Europe/Istanbul
core-fra,core,1,,FRA,Frankfurt am Main,DE,50.026400,8.543130,Europe/Berlin
";
        let sites = parse("t.csv", text.as_bytes()).expect("valid in any order");
        let order: Vec<&str> = registration_order(&sites)
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(order, ["core-fra", "regional-ist", "edge-ber"]);
    }
}
