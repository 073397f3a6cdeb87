//! Vote integrity: what each vote records besides the vote (keyed hashes of where it came from),
//! the signals of coordinated voting computed from the vote log, quarantine and release of a
//! signal's votes, and forgetting the hashes after the results. The rules and their parameters
//! are `RULES`; docs/integrity.md says them in words.
//!
//! A signal is not stored: it is recomputed from the log for each report, and its id is derived
//! from what it is (category, kind, nomination, network, window), so the same coordinated group
//! has the same id in every report and `quarantineVotes(signalId)` finds it again. Quarantining
//! stores one row per voter (`vote_quarantines`), which the counters and the freeze read, and a
//! line of the append-only `vote_quarantine_log`, which also keeps how the signal looked then.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::accounts::Viewer;
use crate::awards::APPROVED;
use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::i18n::ru_form;
use crate::models::Award;
use crate::tables::{award_categories, awards, nominations};

// ───────────── recording ─────────────

/// Where a vote came from, as keyed hashes: equal inputs give equal hashes under one
/// `APP_SECRET`, and nothing here can be turned back into an address without the key (and even
/// with it, only by trying every address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forensics {
    /// The client's network: /24 for IPv4, /48 for IPv6.
    pub net: Option<i64>,
    pub addr: Option<i64>,
    pub user_agent: Option<i64>,
}

/// The key of the forensic hashes, derived from `APP_SECRET` for this one purpose, so that a
/// hash can't stand in for any token made with the same secret.
fn forensic_key(secret: &str) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"birgemiz vote forensics v1");
    mac.finalize().into_bytes().into()
}

fn keyed_hash(key: &[u8; 32], label: &str, value: &[u8]) -> i64 {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(value);
    let out = mac.finalize().into_bytes();
    i64::from_be_bytes(out[..8].try_into().expect("32 bytes hold 8"))
}

/// The network an address belongs to, as bytes: the first 3 bytes of an IPv4 address, the first
/// 6 of an IPv6 one (an IPv4-mapped IPv6 address counts as the IPv4 address).
pub fn network_of(ip: IpAddr) -> Vec<u8> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let mut b = vec![4];
            b.extend_from_slice(&v4.octets()[..3]);
            b
        }
        IpAddr::V6(v6) => {
            let mut b = vec![6];
            b.extend_from_slice(&v6.octets()[..6]);
            b
        }
    }
}

impl Forensics {
    /// `ip` as the api resolved it (TRUSTED_PROXIES decides whose X-Forwarded-For counts).
    pub fn of(secret: &str, ip: Option<&str>, user_agent: Option<&str>) -> Forensics {
        let key = forensic_key(secret);
        let ip: Option<IpAddr> = ip.and_then(|s| s.trim().parse().ok());
        Forensics {
            net: ip.map(|ip| keyed_hash(&key, "net", &network_of(ip))),
            addr: ip.map(|ip| keyed_hash(&key, "addr", ip.to_canonical().to_string().as_bytes())),
            user_agent: user_agent
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|ua| keyed_hash(&key, "ua", ua.as_bytes())),
        }
    }
}

// ───────────── rules ─────────────

/// The four kinds of signal, stored as their GraphQL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalKind {
    SharedNetwork,
    Burst,
    NewAccounts,
    SameClient,
}

impl SignalKind {
    pub const ALL: [SignalKind; 4] = [
        SignalKind::SharedNetwork,
        SignalKind::Burst,
        SignalKind::NewAccounts,
        SignalKind::SameClient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::SharedNetwork => "SHARED_NETWORK",
            SignalKind::Burst => "BURST",
            SignalKind::NewAccounts => "NEW_ACCOUNTS",
            SignalKind::SameClient => "SAME_CLIENT",
        }
    }

    pub fn parse(s: &str) -> Option<SignalKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Every parameter of the signals, in one place. A group becomes a signal only when it is both
/// over its floor (too few votes say nothing) and `factor` times its baseline (`strength`).
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// SHARED_NETWORK: votes for one nomination from one network, against the median that
    /// network gave each of the category's other nominations (at least 1).
    pub shared_network_min_votes: usize,
    pub shared_network_factor: f64,
    /// BURST: the most votes a nomination got within `burst_window`, against its own rate over
    /// the `burst_trailing` before that window, per window (at least 1).
    pub burst_window: Duration,
    pub burst_trailing: Duration,
    pub burst_min_votes: usize,
    pub burst_factor: f64,
    /// NEW_ACCOUNTS: votes from accounts created at most `new_account_age` before they voted,
    /// as a share of a nomination's votes, against that share among the category's other
    /// nominations (at least `new_accounts_min_share`).
    pub new_account_age: Duration,
    pub new_accounts_min_votes: usize,
    pub new_accounts_min_share: f64,
    pub new_accounts_factor: f64,
    /// SAME_CLIENT: accounts voting in a category from one (user agent, network) pair, against
    /// the median number of accounts per pair in that category (at least 1).
    pub same_client_min_accounts: usize,
    pub same_client_factor: f64,
}

pub const RULES: Rules = Rules {
    shared_network_min_votes: 20,
    shared_network_factor: 5.0,
    burst_window: Duration::minutes(10),
    burst_trailing: Duration::hours(24),
    burst_min_votes: 20,
    burst_factor: 5.0,
    new_account_age: Duration::hours(1),
    new_accounts_min_votes: 20,
    new_accounts_min_share: 0.05,
    new_accounts_factor: 3.0,
    same_client_min_accounts: 10,
    same_client_factor: 5.0,
};

/// One arrival of a voter's vote at a nomination (a CAST or a MOVE), as the log tells it.
#[derive(Clone, Debug, QueryableByName)]
pub struct Arrival {
    #[diesel(sql_type = BigInt)]
    pub category_id: i64,
    #[diesel(sql_type = BigInt)]
    pub nomination_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub net: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub user_agent: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    pub account_created_at: DateTime<Utc>,
}

/// A group of votes that looks coordinated.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub id: i64,
    pub kind: SignalKind,
    pub category_id: i64,
    pub nomination_id: Option<i64>,
    /// Distinct voters in the group.
    pub votes: i32,
    /// What was expected (the baseline the group is compared with).
    pub baseline: f64,
    /// `votes`, or for NEW_ACCOUNTS the share, over the baseline.
    pub strength: f64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub quarantined: bool,
    pub quarantine_reason: Option<String>,
    /// The voters (never shown: quarantine takes their votes out).
    pub voters: Vec<i64>,
}

/// Bits of a signal id below the category id: the category is recoverable from the id (so a
/// quarantine recomputes one category, not the award), the rest tells a category's signals apart.
const SIGNAL_BITS: u32 = 20;

fn signal_id(category_id: i64, kind: SignalKind, parts: &[i64]) -> i64 {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    for p in parts {
        h.update(p.to_be_bytes());
    }
    let d = h.finalize();
    let low = u32::from_be_bytes(d[..4].try_into().expect("4 bytes")) & ((1 << SIGNAL_BITS) - 1);
    (category_id << SIGNAL_BITS) | i64::from(low)
}

pub fn category_of_signal(signal_id: i64) -> i64 {
    signal_id >> SIGNAL_BITS
}

fn median(values: &mut [usize]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
    }
}

/// Builds a signal from its arrivals (each voter once).
fn group(
    kind: SignalKind,
    category_id: i64,
    nomination_id: Option<i64>,
    id_parts: &[i64],
    members: &[&Arrival],
    baseline: f64,
    strength: f64,
) -> Signal {
    let mut voters: Vec<i64> = members.iter().map(|a| a.user_id).collect();
    voters.sort_unstable();
    voters.dedup();
    Signal {
        id: signal_id(category_id, kind, id_parts),
        kind,
        category_id,
        nomination_id,
        votes: i32::try_from(voters.len()).unwrap_or(i32::MAX),
        baseline,
        strength: (strength * 100.0).round() / 100.0,
        first_at: members
            .iter()
            .map(|a| a.at)
            .min()
            .expect("a group has members"),
        last_at: members
            .iter()
            .map(|a| a.at)
            .max()
            .expect("a group has members"),
        quarantined: false,
        quarantine_reason: None,
        voters,
    }
}

/// The signals of one category, from its arrivals (any order) and its approved nominations.
pub fn detect(
    rules: &Rules,
    category_id: i64,
    nominations: &[i64],
    arrivals: &[Arrival],
) -> Vec<Signal> {
    // A voter who left a nomination and came back arrives twice: the first arrival counts.
    let mut seen = HashSet::new();
    let mut arrivals: Vec<&Arrival> = arrivals
        .iter()
        .filter(|a| a.category_id == category_id)
        .collect();
    arrivals.sort_by_key(|a| a.at);
    arrivals.retain(|a| seen.insert((a.user_id, a.nomination_id)));
    let mut out = Vec::new();
    shared_network(rules, category_id, nominations, &arrivals, &mut out);
    burst(rules, category_id, nominations, &arrivals, &mut out);
    new_accounts(rules, category_id, nominations, &arrivals, &mut out);
    same_client(rules, category_id, &arrivals, &mut out);
    out.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.kind.cmp(&b.kind))
            .then(a.id.cmp(&b.id))
    });
    out
}

fn shared_network(
    rules: &Rules,
    category_id: i64,
    nominations: &[i64],
    arrivals: &[&Arrival],
    out: &mut Vec<Signal>,
) {
    let mut by_net: HashMap<i64, HashMap<i64, Vec<&Arrival>>> = HashMap::new();
    for a in arrivals {
        if let Some(net) = a.net {
            by_net
                .entry(net)
                .or_default()
                .entry(a.nomination_id)
                .or_default()
                .push(a);
        }
    }
    for (net, per_nomination) in &by_net {
        for (&nomination, members) in per_nomination {
            if members.len() < rules.shared_network_min_votes {
                continue;
            }
            let mut others: Vec<usize> = nominations
                .iter()
                .filter(|n| **n != nomination)
                .map(|n| per_nomination.get(n).map_or(0, Vec::len))
                .collect();
            let baseline = median(&mut others).max(1.0);
            let strength = members.len() as f64 / baseline;
            if strength >= rules.shared_network_factor {
                out.push(group(
                    SignalKind::SharedNetwork,
                    category_id,
                    Some(nomination),
                    &[nomination, *net],
                    members,
                    baseline,
                    strength,
                ));
            }
        }
    }
}

fn burst(
    rules: &Rules,
    category_id: i64,
    nominations: &[i64],
    arrivals: &[&Arrival],
    out: &mut Vec<Signal>,
) {
    let windows_trailing =
        rules.burst_trailing.num_seconds() as f64 / rules.burst_window.num_seconds() as f64;
    for &nomination in nominations {
        let times: Vec<&Arrival> = arrivals
            .iter()
            .copied()
            .filter(|a| a.nomination_id == nomination)
            .collect();
        if times.len() < rules.burst_min_votes {
            continue;
        }
        // The fullest window starting at a vote: two pointers over the sorted arrivals.
        let (mut best, mut best_start, mut end) = (0, 0, 0);
        for start in 0..times.len() {
            while end < times.len() && times[end].at < times[start].at + rules.burst_window {
                end += 1;
            }
            if end - start > best {
                best = end - start;
                best_start = start;
            }
        }
        if best < rules.burst_min_votes {
            continue;
        }
        let t0 = times[best_start].at;
        let trailing = times
            .iter()
            .filter(|a| a.at < t0 && a.at >= t0 - rules.burst_trailing)
            .count();
        let baseline = (trailing as f64 / windows_trailing).max(1.0);
        let strength = best as f64 / baseline;
        if strength >= rules.burst_factor {
            out.push(group(
                SignalKind::Burst,
                category_id,
                Some(nomination),
                &[nomination, t0.timestamp()],
                &times[best_start..best_start + best],
                baseline,
                strength,
            ));
        }
    }
}

fn new_accounts(
    rules: &Rules,
    category_id: i64,
    nominations: &[i64],
    arrivals: &[&Arrival],
    out: &mut Vec<Signal>,
) {
    let is_new = |a: &Arrival| {
        a.at >= a.account_created_at && a.at - a.account_created_at <= rules.new_account_age
    };
    let total = arrivals.len();
    let total_new = arrivals.iter().filter(|a| is_new(a)).count();
    for &nomination in nominations {
        let mine: Vec<&Arrival> = arrivals
            .iter()
            .copied()
            .filter(|a| a.nomination_id == nomination)
            .collect();
        let fresh: Vec<&Arrival> = mine.iter().copied().filter(|a| is_new(a)).collect();
        if fresh.len() < rules.new_accounts_min_votes {
            continue;
        }
        let share = fresh.len() as f64 / mine.len() as f64;
        let rest = total - mine.len();
        let rest_share = if rest == 0 {
            0.0
        } else {
            (total_new - fresh.len()) as f64 / rest as f64
        };
        let baseline = rest_share.max(rules.new_accounts_min_share);
        let strength = share / baseline;
        if strength >= rules.new_accounts_factor {
            out.push(group(
                SignalKind::NewAccounts,
                category_id,
                Some(nomination),
                &[nomination],
                &fresh,
                (baseline * 1000.0).round() / 1000.0,
                strength,
            ));
        }
    }
}

fn same_client(rules: &Rules, category_id: i64, arrivals: &[&Arrival], out: &mut Vec<Signal>) {
    let mut by_client: HashMap<(i64, i64), Vec<&Arrival>> = HashMap::new();
    for a in arrivals {
        if let (Some(ua), Some(net)) = (a.user_agent, a.net) {
            by_client.entry((ua, net)).or_default().push(a);
        }
    }
    let accounts = |members: &Vec<&Arrival>| {
        members
            .iter()
            .map(|a| a.user_id)
            .collect::<HashSet<_>>()
            .len()
    };
    let mut per_pair: Vec<usize> = by_client.values().map(accounts).collect();
    let baseline = median(&mut per_pair).max(1.0);
    for ((ua, net), members) in &by_client {
        let n = accounts(members);
        if n < rules.same_client_min_accounts {
            continue;
        }
        let strength = n as f64 / baseline;
        if strength < rules.same_client_factor {
            continue;
        }
        // The nomination most of the group voted for, when it is more than half of them.
        let mut per_nomination: HashMap<i64, usize> = HashMap::new();
        for a in members {
            *per_nomination.entry(a.nomination_id).or_default() += 1;
        }
        let top = per_nomination
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
            .filter(|(_, n)| **n * 2 > members.len())
            .map(|(id, _)| *id);
        out.push(group(
            SignalKind::SameClient,
            category_id,
            top,
            &[*ua, *net],
            members,
            baseline,
            strength,
        ));
    }
}

impl Signal {
    /// The signal in words, with its numbers, in `locale`.
    pub fn describe(&self, locale: Locale, rules: &Rules) -> String {
        let v = i64::from(self.votes);
        let (b, s) = (
            fmt_num(self.baseline, locale),
            fmt_num(self.strength, locale),
        );
        let pct = fmt_num(self.baseline * 100.0, locale);
        let (w, h) = (
            rules.burst_window.num_minutes(),
            rules.burst_trailing.num_hours(),
        );
        let age = rules.new_account_age.num_hours();
        // Russian nouns agree with the number before them (1 голос, 2 голоса, 5 голосов), and so
        // does "раз" after a multiple; Kazakh nouns after a numeral stay singular.
        let votes = |n: i64| format!("{n} {}", ru_form(n, ["голос", "голоса", "голосов"]));
        let accounts = |n: i64| {
            let noun = ru_form(n, ["учётная запись", "учётные записи", "учётных записей"]);
            format!("{n} {noun}")
        };
        let times = ru_times(self.strength);
        match (self.kind, locale) {
            (SignalKind::SharedNetwork, Locale::En) => format!(
                "{v} votes for this nomination came from one network, {s}× the {b} that network gave each other nomination (median); a signal from {} votes and {}×.",
                rules.shared_network_min_votes, rules.shared_network_factor
            ),
            (SignalKind::SharedNetwork, Locale::Ru) => format!(
                "Из одной сети за эту номинацию: {} — в {s} {times} больше, чем {b} (медиана), которые эта сеть дала каждой другой номинации; порог сигнала: {} и {}×.",
                votes(v),
                votes(rules.shared_network_min_votes as i64),
                rules.shared_network_factor
            ),
            (SignalKind::SharedNetwork, Locale::Kk) => format!(
                "Бұл номинацияға {v} дауыс бір желіден келді: бұл желі басқа әр номинацияға берген {b} дауыстан (медиана) {s} есе көп; сигнал {} дауыс пен {}× бастап.",
                rules.shared_network_min_votes, rules.shared_network_factor
            ),
            (SignalKind::Burst, Locale::En) => format!(
                "{v} votes within {w} minutes, {s}× this nomination's own rate of {b} per {w} minutes over the preceding {h} hours; a signal from {} votes and {}×.",
                rules.burst_min_votes, rules.burst_factor
            ),
            (SignalKind::Burst, Locale::Ru) => format!(
                "{} за {w} {} — в {s} {times} больше собственного темпа этой номинации ({b} за {w} {}) за предыдущие {h} {}; порог сигнала: {} и {}×.",
                votes(v),
                ru_form(w, ["минуту", "минуты", "минут"]),
                ru_form(w, ["минуту", "минуты", "минут"]),
                ru_form(h, ["час", "часа", "часов"]),
                votes(rules.burst_min_votes as i64),
                rules.burst_factor
            ),
            (SignalKind::Burst, Locale::Kk) => format!(
                "{w} минут ішінде {v} дауыс: бұл номинацияның алдыңғы {h} сағаттағы өз қарқынынан ({w} минутта {b}) {s} есе көп; сигнал {} дауыс пен {}× бастап.",
                rules.burst_min_votes, rules.burst_factor
            ),
            (SignalKind::NewAccounts, Locale::En) => format!(
                "{v} votes from accounts created at most {age} {} before voting: their share of this nomination's votes is {s}× their share of {pct}% among the category's other votes; a signal from {} votes and {}×.",
                if age == 1 { "hour" } else { "hours" },
                rules.new_accounts_min_votes,
                rules.new_accounts_factor
            ),
            (SignalKind::NewAccounts, Locale::Ru) => format!(
                "{} с учётных записей, созданных не более чем за {age} {} до голосования: их доля среди голосов этой номинации в {s} {times} выше их доли ({pct} %) среди остальных голосов категории; порог сигнала: {} и {}×.",
                votes(v),
                ru_form(age, ["час", "часа", "часов"]),
                votes(rules.new_accounts_min_votes as i64),
                rules.new_accounts_factor
            ),
            (SignalKind::NewAccounts, Locale::Kk) => format!(
                "Дауыс беруден ең көбі {age} сағат бұрын ашылған тіркелгілерден {v} дауыс: олардың бұл номинация дауыстарындағы үлесі санаттың басқа дауыстарындағы үлесінен ({pct} %) {s} есе жоғары; сигнал {} дауыс пен {}× бастап.",
                rules.new_accounts_min_votes, rules.new_accounts_factor
            ),
            (SignalKind::SameClient, Locale::En) => format!(
                "{v} accounts voted in this category from one browser and network, {s}× the {b} accounts per browser and network (median); a signal from {} accounts and {}×.",
                rules.same_client_min_accounts, rules.same_client_factor
            ),
            (SignalKind::SameClient, Locale::Ru) => format!(
                "Учётных записей, проголосовавших в этой категории из одного браузера и одной сети: {v} — в {s} {times} больше, чем {b} (медиана) на браузер и сеть; порог сигнала: {} и {}×.",
                accounts(rules.same_client_min_accounts as i64),
                rules.same_client_factor
            ),
            (SignalKind::SameClient, Locale::Kk) => format!(
                "Бұл санатта бір браузер мен бір желіден {v} тіркелгі дауыс берді: бұл бір браузер мен желіге келетін {b} тіркелгіден (медиана) {s} есе көп; сигнал {} тіркелгі мен {}× бастап.",
                rules.same_client_min_accounts, rules.same_client_factor
            ),
        }
    }
}

/// A number as people write it: no trailing zeros, at most two decimals, and the decimal comma
/// of Kazakh and Russian.
fn fmt_num(x: f64, locale: Locale) -> String {
    let s = format!("{:.2}", (x * 100.0).round() / 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match locale {
        Locale::En => s.to_owned(),
        Locale::Kk | Locale::Ru => s.replace('.', ","),
    }
}

/// "в N раз" / "в N раза": a fraction (as written, two decimals) always takes "раза".
fn ru_times(x: f64) -> &'static str {
    let hundredths = (x * 100.0).round() as i64;
    if hundredths % 100 != 0 {
        return "раза";
    }
    ru_form(hundredths / 100, ["раз", "раза", "раз"])
}

// ───────────── the report ─────────────

/// Computed from the vote log when asked for.
#[derive(Clone, Debug)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    /// Standing votes of the award (every category).
    pub votes_total: i64,
    /// Of those, the ones of voters quarantined in their category.
    pub votes_quarantined: i64,
    pub signals: Vec<Signal>,
}

/// Admins only, once voting has opened.
pub fn may_read_report(viewer: Option<&Viewer>, award: &Award, now: DateTime<Utc>) -> bool {
    viewer.is_some_and(Viewer::is_admin) && now >= award.voting_opens_at
}

const ARRIVALS: &str = "
    SELECT e.category_id, e.to_nomination_id AS nomination_id, e.user_id, e.created_at AS at,
           e.net_hash AS net, e.ua_hash AS user_agent, u.created_at AS account_created_at
    FROM vote_events e
    JOIN users u ON u.id = e.user_id
    WHERE e.category_id = ANY($1) AND e.to_nomination_id IS NOT NULL";

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    award_id: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    quarantined: i64,
}

/// What the log says of a signal that was quarantined: its last QUARANTINE line, with the
/// signal as it looked then, for a signal the log no longer shows the same way (more votes
/// moved its window, say) but whose votes are still out.
#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = BigInt)]
    signal_id: i64,
    #[diesel(sql_type = BigInt)]
    category_id: i64,
    #[diesel(sql_type = Text)]
    signal_kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    nomination_id: Option<i64>,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = Nullable<Double>)]
    baseline: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    strength: Option<f64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    first_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Array<BigInt>)]
    voters: Vec<i64>,
}

const HELD: &str = "
    SELECT q.signal_id, q.category_id, q.signal_kind, l.nomination_id, q.reason, l.baseline,
           l.strength, l.first_at, l.last_at, q.voters
    FROM (SELECT signal_id, min(category_id) AS category_id, min(signal_kind) AS signal_kind,
                 min(reason) AS reason, array_agg(user_id ORDER BY user_id) AS voters
          FROM vote_quarantines
          WHERE category_id = ANY($1) AND released_at IS NULL
          GROUP BY signal_id) q
    LEFT JOIN LATERAL (SELECT nomination_id, baseline, strength, first_at, last_at
                       FROM vote_quarantine_log g
                       WHERE g.signal_id = q.signal_id AND g.action = 'QUARANTINE'
                       ORDER BY g.id DESC LIMIT 1) l ON true";

/// The signals of some categories, with their quarantine state.
async fn signals_of(
    conn: &AsyncPgConnection,
    categories: &[i64],
) -> Result<HashMap<i64, Vec<Signal>>> {
    let arrivals: Vec<Arrival> = diesel::sql_query(ARRIVALS)
        .bind::<Array<BigInt>, _>(categories)
        .load(&mut &*conn)
        .await?;
    let approved: Vec<(i64, i64)> = nominations::table
        .filter(nominations::category_id.eq_any(categories))
        .filter(nominations::status.eq(APPROVED))
        .select((nominations::category_id, nominations::id))
        .load(&mut &*conn)
        .await?;
    let held: Vec<Held> = diesel::sql_query(HELD)
        .bind::<Array<BigInt>, _>(categories)
        .load(&mut &*conn)
        .await?;
    let mut by_category: HashMap<i64, Vec<Arrival>> = HashMap::new();
    for a in arrivals {
        by_category.entry(a.category_id).or_default().push(a);
    }
    let mut out = HashMap::new();
    for &c in categories {
        let noms: Vec<i64> = approved
            .iter()
            .filter(|(cat, _)| *cat == c)
            .map(|(_, n)| *n)
            .collect();
        let mut signals = detect(
            &RULES,
            c,
            &noms,
            by_category.get(&c).map_or(&[][..], Vec::as_slice),
        );
        for h in held.iter().filter(|h| h.category_id == c) {
            match signals.iter_mut().find(|s| s.id == h.signal_id) {
                Some(s) => {
                    s.quarantined = true;
                    s.quarantine_reason = Some(h.reason.clone());
                }
                None => signals.push(Signal {
                    id: h.signal_id,
                    kind: SignalKind::parse(&h.signal_kind)
                        .ok_or_else(|| Error::Internal("unknown signal kind".into()))?,
                    category_id: c,
                    nomination_id: h.nomination_id,
                    votes: i32::try_from(h.voters.len()).unwrap_or(i32::MAX),
                    baseline: h.baseline.unwrap_or(1.0),
                    strength: h.strength.unwrap_or(0.0),
                    first_at: h.first_at.unwrap_or_default(),
                    last_at: h.last_at.unwrap_or_default(),
                    quarantined: true,
                    quarantine_reason: Some(h.reason.clone()),
                    voters: h.voters.clone(),
                }),
            }
        }
        out.insert(c, signals);
    }
    Ok(out)
}

/// The reports of some awards (admins only: check `may_read_report` first).
pub async fn reports(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, Report>> {
    let categories: Vec<(i64, i64)> = award_categories::table
        .filter(award_categories::award_id.eq_any(award_ids))
        .order((award_categories::award_id, award_categories::position))
        .select((award_categories::award_id, award_categories::id))
        .load(&mut &*conn)
        .await?;
    let category_ids: Vec<i64> = categories.iter().map(|(_, c)| *c).collect();
    let mut signals = signals_of(conn, &category_ids).await?;
    let totals: Vec<Totals> = diesel::sql_query(
        "SELECT c.award_id, count(*)::bigint AS total,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM vote_quarantines q
                    WHERE q.category_id = v.category_id AND q.user_id = v.user_id
                      AND q.released_at IS NULL))::bigint AS quarantined
         FROM votes v JOIN award_categories c ON c.id = v.category_id
         WHERE c.award_id = ANY($1) GROUP BY c.award_id",
    )
    .bind::<Array<BigInt>, _>(award_ids)
    .load(&mut &*conn)
    .await?;
    Ok(award_ids
        .iter()
        .map(|&a| {
            let t = totals.iter().find(|t| t.award_id == a);
            let report = Report {
                generated_at: now,
                votes_total: t.map_or(0, |t| t.total),
                votes_quarantined: t.map_or(0, |t| t.quarantined),
                signals: categories
                    .iter()
                    .filter(|(award, _)| *award == a)
                    .flat_map(|(_, c)| signals.remove(c).unwrap_or_default())
                    .collect(),
            };
            (a, report)
        })
        .collect())
}

// ───────────── quarantine and release ─────────────

/// The award of a category, locked against a concurrent freeze, quarantine or release.
async fn lock_award_of(conn: &mut AsyncPgConnection, category_id: i64) -> Result<Award> {
    let award_id: i64 = award_categories::table
        .find(category_id)
        .select(award_categories::award_id)
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("integrity signal"))?;
    let a: Award = awards::table
        .find(award_id)
        .for_update()
        .select(Award::as_select())
        .first(conn)
        .await?;
    if crate::juries::is_frozen(conn, a.id).await? {
        return Err(Error::PhaseClosed(
            "the results are frozen; quarantines can no longer change".into(),
        ));
    }
    Ok(a)
}

/// The signal with that id as the log shows it now (with its quarantine state).
async fn find_signal(conn: &AsyncPgConnection, signal_id: i64) -> Result<Option<Signal>> {
    let c = category_of_signal(signal_id);
    Ok(signals_of(conn, &[c])
        .await?
        .remove(&c)
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.id == signal_id))
}

/// Voters of `voters` with no standing quarantine in the category.
async fn unquarantined(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    voters: &[i64],
) -> Result<Vec<i64>> {
    #[derive(QueryableByName)]
    struct U {
        #[diesel(sql_type = BigInt)]
        user_id: i64,
    }
    let rows: Vec<U> = diesel::sql_query(
        "SELECT u AS user_id FROM unnest($2::bigint[]) u
         WHERE NOT EXISTS (SELECT 1 FROM vote_quarantines q
                           WHERE q.category_id = $1 AND q.user_id = u AND q.released_at IS NULL)",
    )
    .bind::<BigInt, _>(category_id)
    .bind::<Array<BigInt>, _>(voters)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// Moves the public counters by `delta` for the standing votes of `voters` in the category
/// (folded like every vote), with their vote rows locked so that a concurrent move of one of
/// them waits and then sees the quarantine.
async fn shift_counts(
    conn: &mut AsyncPgConnection,
    category_id: i64,
    voters: &[i64],
    delta: i32,
) -> Result<()> {
    diesel::sql_query(
        "WITH locked AS (
             SELECT category_id, nomination_id FROM votes
             WHERE category_id = $1 AND user_id = ANY($2) FOR UPDATE)
         INSERT INTO vote_count_deltas (category_id, nomination_id, delta)
         SELECT category_id, nomination_id, $3 FROM locked",
    )
    .bind::<BigInt, _>(category_id)
    .bind::<Array<BigInt>, _>(voters)
    .bind::<diesel::sql_types::Integer, _>(delta)
    .execute(conn)
    .await?;
    Ok(())
}

async fn log(
    conn: &mut AsyncPgConnection,
    s: &Signal,
    action: &str,
    admin_id: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::sql_query(
        "INSERT INTO vote_quarantine_log (signal_id, category_id, signal_kind, action, admin_id,
                                          reason, votes, nomination_id, baseline, strength,
                                          first_at, last_at, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind::<BigInt, _>(s.id)
    .bind::<BigInt, _>(s.category_id)
    .bind::<Text, _>(s.kind.as_str())
    .bind::<Text, _>(action)
    .bind::<BigInt, _>(admin_id)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<diesel::sql_types::Integer, _>(s.votes)
    .bind::<Nullable<BigInt>, _>(s.nomination_id)
    .bind::<Double, _>(s.baseline)
    .bind::<Double, _>(s.strength)
    .bind::<Timestamptz, _>(s.first_at)
    .bind::<Timestamptz, _>(s.last_at)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Admins, until the results are frozen: the signal's voters' votes in its category stop
/// counting (the public counters after the next fold, the freeze at once). A signal already
/// quarantined is returned as it is. Returns the signal and its award.
pub async fn quarantine(
    conn: &mut AsyncPgConnection,
    admin: &Viewer,
    signal_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Signal, Award)> {
    crate::access::require_admin(Some(admin))?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::bad_input("reason", "is required"));
    }
    if reason.chars().count() > 500 {
        return Err(Error::bad_input("reason", "must be at most 500 characters"));
    }
    let admin_id = admin.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award_of(conn, category_of_signal(signal_id)).await?;
        if now < a.voting_opens_at {
            return Err(Error::NotFound("integrity signal"));
        }
        let mut s = find_signal(&*conn, signal_id)
            .await?
            .ok_or(Error::NotFound("integrity signal"))?;
        if s.quarantined {
            return Ok((s, a));
        }
        let newly_out = unquarantined(conn, s.category_id, &s.voters).await?;
        diesel::sql_query(
            "INSERT INTO vote_quarantines (category_id, user_id, reason, quarantined_by,
                                           quarantined_at, signal_id, signal_kind)
             SELECT $1, u, $2, $3, $4, $5, $6 FROM unnest($7::bigint[]) u",
        )
        .bind::<BigInt, _>(s.category_id)
        .bind::<Text, _>(&reason)
        .bind::<BigInt, _>(admin_id)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(s.id)
        .bind::<Text, _>(s.kind.as_str())
        .bind::<Array<BigInt>, _>(&s.voters)
        .execute(conn)
        .await?;
        shift_counts(conn, s.category_id, &newly_out, -1).await?;
        log(conn, &s, "QUARANTINE", admin_id, Some(&reason), now).await?;
        s.quarantined = true;
        s.quarantine_reason = Some(reason);
        Ok((s, a))
    })
    .await
}

/// Admins, until the results are frozen: undoes `quarantine` (a voter also in another
/// quarantined signal stays out). A signal not quarantined is returned as it is. Returns the
/// signal and its award.
pub async fn release(
    conn: &mut AsyncPgConnection,
    admin: &Viewer,
    signal_id: i64,
    now: DateTime<Utc>,
) -> Result<(Signal, Award)> {
    crate::access::require_admin(Some(admin))?;
    let admin_id = admin.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award_of(conn, category_of_signal(signal_id)).await?;
        let mut s = find_signal(&*conn, signal_id)
            .await?
            .ok_or(Error::NotFound("integrity signal"))?;
        if !s.quarantined {
            return Ok((s, a));
        }
        let released: Vec<i64> = diesel::sql_query(
            "UPDATE vote_quarantines SET released_at = $2, released_by = $3
             WHERE signal_id = $1 AND released_at IS NULL RETURNING user_id",
        )
        .bind::<BigInt, _>(s.id)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(admin_id)
        .load::<UserRow>(conn)
        .await?
        .into_iter()
        .map(|r| r.user_id)
        .collect();
        let back_in = unquarantined(conn, s.category_id, &released).await?;
        shift_counts(conn, s.category_id, &back_in, 1).await?;
        log(conn, &s, "RELEASE", admin_id, None, now).await?;
        s.quarantined = false;
        s.quarantine_reason = None;
        Ok((s, a))
    })
    .await
}

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
}

/// For `node(id:)`: the signals with these ids, for admins (None for anyone else or a signal
/// the log no longer shows).
pub async fn signals_by_ids(
    conn: &AsyncPgConnection,
    viewer: Option<&Viewer>,
    ids: &[i64],
) -> Result<HashMap<i64, Signal>> {
    if !viewer.is_some_and(Viewer::is_admin) || ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut categories: Vec<i64> = ids.iter().map(|i| category_of_signal(*i)).collect();
    categories.sort_unstable();
    categories.dedup();
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    Ok(signals_of(conn, &categories)
        .await?
        .into_values()
        .flatten()
        .filter(|s| wanted.contains(&s.id))
        .map(|s| (s.id, s))
        .collect())
}

// ───────────── exclusions in the snapshot ─────────────

/// Why votes were excluded, per nomination: each excluded voter under the first of their
/// standing quarantines (so the lines add up to the nomination's excluded votes).
#[derive(Clone, Debug, QueryableByName)]
pub struct Exclusion {
    #[diesel(sql_type = BigInt)]
    pub nomination_id: i64,
    #[diesel(sql_type = Text)]
    pub signal_kind: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = BigInt)]
    pub votes: i64,
}

pub async fn exclusions(conn: &mut AsyncPgConnection, award_id: i64) -> Result<Vec<Exclusion>> {
    Ok(diesel::sql_query(
        "WITH last AS (
             SELECT DISTINCT ON (e.category_id, e.user_id) e.category_id, e.user_id, e.kind,
                    e.to_nomination_id
             FROM vote_events e JOIN award_categories c ON c.id = e.category_id
             WHERE c.award_id = $1
             ORDER BY e.category_id, e.user_id, e.id DESC)
         SELECT l.to_nomination_id AS nomination_id, q.signal_kind, q.reason,
                count(*)::bigint AS votes
         FROM last l
         CROSS JOIN LATERAL (SELECT v.signal_kind, v.reason FROM vote_quarantines v
                             WHERE v.category_id = l.category_id AND v.user_id = l.user_id
                               AND v.released_at IS NULL
                             ORDER BY v.id LIMIT 1) q
         WHERE l.kind <> 'RETRACT'
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .bind::<BigInt, _>(award_id)
    .load(conn)
    .await?)
}

// ───────────── retention ─────────────

/// Forgets the hashes of the votes of awards whose results were published more than
/// `retention` ago, a batch at a time; returns how many events it cleared.
pub async fn forget_forensics(
    conn: &mut AsyncPgConnection,
    retention: Duration,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<u64> {
    let mut cleared = 0;
    loop {
        let n = diesel::sql_query(
            "UPDATE vote_events SET net_hash = NULL, addr_hash = NULL, ua_hash = NULL
             WHERE id IN (
                 SELECT e.id FROM vote_events e
                 JOIN award_categories c ON c.id = e.category_id
                 JOIN awards a ON a.id = c.award_id
                 WHERE a.results_published_at < $1
                   AND (e.net_hash IS NOT NULL OR e.addr_hash IS NOT NULL OR e.ua_hash IS NOT NULL)
                 LIMIT $2)",
        )
        .bind::<Timestamptz, _>(now - retention)
        .bind::<BigInt, _>(batch)
        .execute(conn)
        .await?;
        cleared += n as u64;
        if (n as i64) < batch {
            return Ok(cleared);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_numbers_agree_with_their_nouns() {
        let forms = ["голос", "голоса", "голосов"];
        for (n, want) in [
            (1, 0),
            (2, 1),
            (4, 1),
            (5, 2),
            (11, 2),
            (12, 2),
            (14, 2),
            (21, 0),
            (22, 1),
            (40, 2),
            (111, 2),
            (101, 0),
        ] {
            assert_eq!(ru_form(n, forms), forms[want], "{n}");
        }
        assert_eq!(ru_times(5.0), "раз");
        assert_eq!(ru_times(21.0), "раз");
        assert_eq!(ru_times(3.0), "раза");
        assert_eq!(ru_times(4.06), "раза");
        assert_eq!(fmt_num(9.3, Locale::Ru), "9,3");
        assert_eq!(fmt_num(9.3, Locale::Kk), "9,3");
        assert_eq!(fmt_num(9.3, Locale::En), "9.3");
        assert_eq!(fmt_num(5.0, Locale::Ru), "5");
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minute)
    }

    fn vote(user: i64, nomination: i64, minute: i64, net: i64, ua: i64) -> Arrival {
        Arrival {
            category_id: 1,
            nomination_id: nomination,
            user_id: user,
            at: at(minute),
            net: Some(net),
            user_agent: Some(ua),
            account_created_at: at(-10_000),
        }
    }

    /// 60 honest voters over three days and many networks, 40 from one network in 2 minutes.
    fn campaign() -> Vec<Arrival> {
        let mut v: Vec<Arrival> = (0..60)
            .map(|i| vote(i, 10 + i % 3, i * 70, 1000 + i, i % 4))
            .collect();
        v.extend((0..40).map(|i| vote(100 + i, 13, 3000 + i / 20, 7, 9)));
        v
    }

    #[test]
    fn a_stuffed_nominee_shows_shared_network_burst_and_same_client() {
        let signals = detect(&RULES, 1, &[10, 11, 12, 13], &campaign());
        let kinds: Vec<(SignalKind, Option<i64>, i32)> = signals
            .iter()
            .map(|s| (s.kind, s.nomination_id, s.votes))
            .collect();
        assert!(
            kinds.contains(&(SignalKind::SharedNetwork, Some(13), 40)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(SignalKind::Burst, Some(13), 40)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(SignalKind::SameClient, Some(13), 40)),
            "{kinds:?}"
        );
        assert!(
            signals.iter().all(|s| s.nomination_id == Some(13)),
            "{kinds:?}"
        );
        let shared = &signals[0];
        assert_eq!(shared.voters, (100..140).collect::<Vec<_>>());
    }

    #[test]
    fn honest_voting_shows_nothing() {
        let honest: Vec<Arrival> = campaign().into_iter().filter(|a| a.user_id < 100).collect();
        assert!(detect(&RULES, 1, &[10, 11, 12, 13], &honest).is_empty());
    }

    #[test]
    fn a_network_that_votes_alike_for_everyone_is_not_a_signal() {
        // One campus: 30 votes for each of three nominations.
        let v: Vec<Arrival> = (0..90).map(|i| vote(i, 10 + i % 3, i * 60, 5, i)).collect();
        let s = detect(&RULES, 1, &[10, 11, 12], &v);
        assert!(
            s.iter().all(|s| s.kind != SignalKind::SharedNetwork),
            "{s:?}"
        );
    }

    #[test]
    fn a_burst_is_measured_against_the_nominations_own_rate() {
        // A steady 30 votes per 10 minutes for a day, then 40 in 10 minutes: not 5× its rate.
        let mut v: Vec<Arrival> = (0..4320).map(|i| vote(i, 10, i / 3, i, i)).collect();
        v.extend((0..40).map(|i| vote(10_000 + i, 10, 1440 + i / 5, 20_000 + i, i)));
        assert!(
            detect(&RULES, 1, &[10, 11], &v)
                .iter()
                .all(|s| s.kind != SignalKind::Burst)
        );
    }

    #[test]
    fn new_accounts_count_against_the_categorys_share() {
        let mut v = Vec::new();
        for i in 0..30 {
            let mut a = vote(i, 10, 100 + i, 1000 + i, i);
            a.account_created_at = at(90);
            v.push(a);
        }
        v.extend((0..60).map(|i| vote(100 + i, 11 + i % 2, 100 + i, 2000 + i, i)));
        let s = detect(&RULES, 1, &[10, 11, 12], &v);
        let new: Vec<&Signal> = s
            .iter()
            .filter(|s| s.kind == SignalKind::NewAccounts)
            .collect();
        assert_eq!(new.len(), 1, "{s:?}");
        assert_eq!(new[0].nomination_id, Some(10));
        assert_eq!(new[0].votes, 30);
        // When every account is new, none stands out.
        for a in &mut v {
            a.account_created_at = a.at - Duration::minutes(5);
        }
        assert!(
            detect(&RULES, 1, &[10, 11, 12], &v)
                .iter()
                .all(|s| s.kind != SignalKind::NewAccounts)
        );
    }

    #[test]
    fn signal_ids_are_stable_and_carry_their_category() {
        let a = detect(&RULES, 77, &[10, 11, 12, 13], &{
            let mut c = campaign();
            c.iter_mut().for_each(|a| a.category_id = 77);
            c
        });
        let b = detect(&RULES, 77, &[10, 11, 12, 13], &{
            let mut c = campaign();
            c.reverse();
            c.iter_mut().for_each(|a| a.category_id = 77);
            c
        });
        assert_eq!(
            a.iter().map(|s| s.id).collect::<Vec<_>>(),
            b.iter().map(|s| s.id).collect::<Vec<_>>()
        );
        assert!(a.iter().all(|s| category_of_signal(s.id) == 77));
        let ids: HashSet<i64> = a.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), a.len());
    }

    #[test]
    fn hashes_never_hold_the_address_and_follow_the_secret() {
        let secret = "a development secret of at least thirty-two characters";
        let f = Forensics::of(secret, Some("203.0.113.7"), Some("Mozilla/5.0"));
        let same_net = Forensics::of(secret, Some("203.0.113.200"), Some("Mozilla/5.0"));
        let other_net = Forensics::of(secret, Some("203.0.114.7"), None);
        assert_eq!(f.net, same_net.net);
        assert_ne!(f.addr, same_net.addr);
        assert_ne!(f.net, other_net.net);
        assert_eq!(other_net.user_agent, None);
        let other_key = Forensics::of(
            &format!("{secret}!"),
            Some("203.0.113.7"),
            Some("Mozilla/5.0"),
        );
        assert_ne!(f.net, other_key.net);
        assert_ne!(f.addr, other_key.addr);
        assert_ne!(f.user_agent, other_key.user_agent);
        let v6 = Forensics::of(secret, Some("2001:db8:1:2::1"), None);
        let v6_same = Forensics::of(secret, Some("2001:db8:1:ffff::9"), None);
        assert_eq!(v6.net, v6_same.net);
        let mapped = Forensics::of(secret, Some("::ffff:203.0.113.9"), None);
        assert_eq!(mapped.net, f.net);
    }

    #[test]
    fn descriptions_carry_the_numbers_in_each_language() {
        let s = &detect(&RULES, 1, &[10, 11, 12, 13], &campaign())[0];
        for l in [Locale::Kk, Locale::Ru, Locale::En] {
            let d = s.describe(l, &RULES);
            assert!(d.contains("40"), "{d}");
        }
        assert_ne!(
            s.describe(Locale::Kk, &RULES),
            s.describe(Locale::Ru, &RULES)
        );
    }
}
