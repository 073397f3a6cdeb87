//! The final ranking, as pure functions of the frozen inputs, and the snapshot document that
//! carries those inputs and the ranking. The freeze builds a [`Document`] from the database and
//! ranks it with [`rank_document`]; the verifier parses a served document and ranks it again
//! with the same function, so "what was published" and "what anyone can recompute" are one code
//! path. The formula and its normalization are described in docs/results.md.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Scores within this distance are equal: they share a rank.
pub const TIE_EPSILON: f64 = 1e-9;

/// The document's format name; a verifier refuses other formats.
pub const FORMAT: &str = "birgemiz-results/1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Method {
    RankPoints,
    WeightedShare,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::RankPoints => "RANK_POINTS",
            Method::WeightedShare => "WEIGHTED_SHARE",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "RANK_POINTS" => Some(Method::RankPoints),
            "WEIGHTED_SHARE" => Some(Method::WeightedShare),
            _ => None,
        }
    }
}

/// How the public vote and the jury combine. `public_weight + jury_weight() = 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Formula {
    pub public_weight: f64,
    pub jury_weight: f64,
    pub method: Method,
    pub rank_points: Option<Vec<i32>>,
    pub normalize_jurors: bool,
}

impl Default for Formula {
    /// Public vote only, by share: the order of the vote counts, as before juries existed.
    fn default() -> Self {
        Formula {
            public_weight: 1.0,
            jury_weight: 0.0,
            method: Method::WeightedShare,
            rank_points: None,
            normalize_jurors: false,
        }
    }
}

impl Formula {
    /// A formula from what an admin gave, checked: the weight in 0–1, rank points only (and
    /// always) for RANK_POINTS, at most 100 of them, none negative, never rising (a better rank
    /// never earns fewer points) and the first above 0.
    pub fn new(
        public_weight: f64,
        method: Method,
        rank_points: Option<Vec<i32>>,
        normalize_jurors: bool,
    ) -> Result<Formula> {
        if !public_weight.is_finite() || !(0.0..=1.0).contains(&public_weight) {
            return Err(Error::bad_input(
                "input.publicWeight",
                "must be between 0 and 1",
            ));
        }
        let rank_points = match (method, rank_points) {
            (Method::RankPoints, Some(p)) => {
                if p.is_empty() || p.len() > 100 {
                    return Err(Error::bad_input(
                        "input.rankPoints",
                        "needs 1 to 100 values",
                    ));
                }
                if p.iter().any(|&x| x < 0) || p[0] == 0 {
                    return Err(Error::bad_input(
                        "input.rankPoints",
                        "values must not be negative and the first must be above 0",
                    ));
                }
                if p.windows(2).any(|w| w[1] > w[0]) {
                    return Err(Error::bad_input(
                        "input.rankPoints",
                        "must not rise: a better rank never earns fewer points",
                    ));
                }
                Some(p)
            }
            (Method::RankPoints, None) => {
                return Err(Error::bad_input(
                    "input.rankPoints",
                    "RANK_POINTS needs rank points, e.g. [5, 4, 3, 2, 1]",
                ));
            }
            (Method::WeightedShare, Some(_)) => {
                return Err(Error::bad_input(
                    "input.rankPoints",
                    "only RANK_POINTS takes rank points",
                ));
            }
            (Method::WeightedShare, None) => None,
        };
        Ok(Formula {
            public_weight,
            jury_weight: 1.0 - public_weight,
            method,
            rank_points,
            normalize_jurors,
        })
    }

    pub fn has_jury(&self) -> bool {
        self.jury_weight > 0.0
    }

    fn points(&self, rank: Option<i32>) -> f64 {
        let (Some(points), Some(rank)) = (&self.rank_points, rank) else {
            return 0.0;
        };
        usize::try_from(rank - 1)
            .ok()
            .and_then(|i| points.get(i))
            .map_or(0.0, |&p| f64::from(p))
    }
}

/// A criterion as the computation needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CriterionSpec {
    pub id: i64,
    pub weight: f64,
    pub max_score: i32,
}

/// The criteria's weights scaled to sum to 1, in the criteria's order.
pub fn normalized_weights(criteria: &[CriterionSpec]) -> Vec<f64> {
    let sum: f64 = criteria.iter().map(|c| c.weight).sum();
    criteria
        .iter()
        .map(|c| if sum > 0.0 { c.weight / sum } else { 0.0 })
        .collect()
}

/// Checks one juror's scores of one nomination: every criterion exactly once, each an integer
/// from 0 to its maxScore. Returns them in the criteria's order.
pub fn check_scores(criteria: &[CriterionSpec], scores: &[(i64, i32)]) -> Result<Vec<(i64, i32)>> {
    let bad = |m: String| Error::bad_input("scores", m);
    if criteria.is_empty() {
        return Err(bad("the award has no judging criteria".into()));
    }
    let mut given: BTreeMap<i64, i32> = BTreeMap::new();
    for &(id, score) in scores {
        let Some(c) = criteria.iter().find(|c| c.id == id) else {
            return Err(bad(format!("criterion {id} is not one of this award's")));
        };
        if given.insert(id, score).is_some() {
            return Err(bad(format!("criterion {id} is given twice")));
        }
        if !(0..=c.max_score).contains(&score) {
            return Err(bad(format!(
                "the score of criterion {id} must be between 0 and {}",
                c.max_score
            )));
        }
    }
    if let Some(missing) = criteria.iter().find(|c| !given.contains_key(&c.id)) {
        return Err(bad(format!("criterion {} has no score", missing.id)));
    }
    Ok(criteria.iter().map(|c| (c.id, given[&c.id])).collect())
}

/// A juror's total of one nomination, 0–1: the weighted mean of score / maxScore, the weights
/// scaled to sum to 1. Criteria without a score count 0 (check_scores refuses that earlier).
pub fn juror_total(criteria: &[CriterionSpec], scores: &[(i64, i32)]) -> f64 {
    let weights = normalized_weights(criteria);
    criteria
        .iter()
        .zip(weights)
        .map(|(c, w)| {
            let s = scores
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(0, |(_, s)| *s);
            w * f64::from(s) / f64::from(c.max_score)
        })
        .sum::<f64>()
        .clamp(0.0, 1.0)
}

/// One juror's totals of the nominations they scored in one category (conflicts are simply
/// absent).
#[derive(Clone, Debug, PartialEq)]
pub struct JurorTotals {
    pub juror: u32,
    pub totals: Vec<(i64, f64)>,
}

/// A nomination's jury score: the mean over the jurors who scored it, and how many did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JuryScore {
    pub score: Option<f64>,
    pub jurors: i32,
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.max(0.0).sqrt())
}

/// The jury score of each of `nominations` in one category. With `normalize`, each juror's
/// totals are first standardized over that juror's own scores in the category,
/// z = (t − mean_j) / sd_j (z = 0 when the juror's totals are all equal), and mapped back onto
/// the jury's common scale: clamp(M + S·z, 0, 1), where M and S are the mean and standard
/// deviation (population) of every total given in the category by any juror. A harsh and a
/// lenient juror who order the nominees alike then give the same normalized values.
/// Scores of nominations not in `nominations` are ignored.
pub fn jury_scores(
    nominations: &[i64],
    jurors: &[JurorTotals],
    normalize: bool,
) -> BTreeMap<i64, JuryScore> {
    let wanted: BTreeSet<i64> = nominations.iter().copied().collect();
    let per_juror: Vec<Vec<(i64, f64)>> = jurors
        .iter()
        .map(|j| {
            j.totals
                .iter()
                .filter(|(n, _)| wanted.contains(n))
                .copied()
                .collect()
        })
        .collect();
    let values: Vec<Vec<(i64, f64)>> = if normalize {
        let all: Vec<f64> = per_juror.iter().flatten().map(|(_, t)| *t).collect();
        if all.is_empty() {
            per_juror
        } else {
            let (m_all, s_all) = mean_sd(&all);
            per_juror
                .into_iter()
                .map(|totals| {
                    if totals.is_empty() {
                        return totals;
                    }
                    let own: Vec<f64> = totals.iter().map(|(_, t)| *t).collect();
                    let (m, s) = mean_sd(&own);
                    totals
                        .into_iter()
                        .map(|(n, t)| {
                            let z = if s > 0.0 { (t - m) / s } else { 0.0 };
                            (n, (m_all + s_all * z).clamp(0.0, 1.0))
                        })
                        .collect()
                })
                .collect()
        }
    } else {
        per_juror
    };
    let mut sums: BTreeMap<i64, (f64, i32)> = BTreeMap::new();
    for (n, v) in values.into_iter().flatten() {
        let e = sums.entry(n).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    nominations
        .iter()
        .map(|&n| {
            let s = match sums.get(&n) {
                Some(&(sum, k)) if k > 0 => JuryScore {
                    score: Some(sum / f64::from(k)),
                    jurors: k,
                },
                _ => JuryScore {
                    score: None,
                    jurors: 0,
                },
            };
            (n, s)
        })
        .collect()
}

/// One nomination's components.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Components {
    pub nomination: i64,
    pub votes: i64,
    pub jury: JuryScore,
}

/// One line of the final ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub nomination: i64,
    pub rank: i32,
    pub score: f64,
    pub public_votes: i64,
    pub public_rank: i32,
    pub jury_score: Option<f64>,
    pub jury_rank: Option<i32>,
    pub jurors_scored: i32,
}

/// Competition ranks (1, 1, 3) of `values`, highest first; equal within `eps` share a rank
/// (compared with the first of their group, so a run of near-equal values can't drift).
/// None values get no rank.
fn competition_ranks(values: &[Option<f64>], eps: f64) -> Vec<Option<i32>> {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        values[b]
            .partial_cmp(&values[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut ranks = vec![None; values.len()];
    let mut leader: Option<(f64, i32)> = None;
    for (pos, &i) in order.iter().enumerate() {
        let v = values[i].unwrap_or(0.0);
        let rank = match leader {
            Some((l, r)) if l - v <= eps => r,
            _ => {
                let r = pos as i32 + 1;
                leader = Some((v, r));
                r
            }
        };
        ranks[i] = Some(rank);
    }
    ranks
}

/// Combines the components by the formula. RANK_POINTS: each component ranks the nominations
/// (ties share a rank), rank r earns rankPoints[r−1] (0 beyond the list, and 0 jury points for
/// a nomination no juror scored); the points are weighted and summed. WEIGHTED_SHARE: the
/// public share is votes / the category's counted votes (0 when there are none), the jury share
/// is the jury score (already a fraction of the maximum, 1); the shares are weighted and summed.
/// Lines come in rank order, then by nomination id.
pub fn combine(formula: &Formula, nominations: &[Components]) -> Vec<Line> {
    let votes: Vec<Option<f64>> = nominations.iter().map(|c| Some(c.votes as f64)).collect();
    let jury: Vec<Option<f64>> = nominations.iter().map(|c| c.jury.score).collect();
    // Vote counts are integers: equal means equal.
    let public_ranks = competition_ranks(&votes, 0.0);
    let jury_ranks = competition_ranks(&jury, TIE_EPSILON);
    let total_votes: i64 = nominations.iter().map(|c| c.votes).sum();
    let scores: Vec<f64> = nominations
        .iter()
        .enumerate()
        .map(|(i, c)| match formula.method {
            Method::RankPoints => {
                formula.public_weight * formula.points(public_ranks[i])
                    + formula.jury_weight * formula.points(jury_ranks[i])
            }
            Method::WeightedShare => {
                let share = if total_votes > 0 {
                    c.votes as f64 / total_votes as f64
                } else {
                    0.0
                };
                formula.public_weight * share + formula.jury_weight * c.jury.score.unwrap_or(0.0)
            }
        })
        .collect();
    let ranks = competition_ranks(
        &scores.iter().copied().map(Some).collect::<Vec<_>>(),
        TIE_EPSILON,
    );
    let mut lines: Vec<Line> = nominations
        .iter()
        .enumerate()
        .map(|(i, c)| Line {
            nomination: c.nomination,
            rank: ranks[i].unwrap_or(0),
            score: scores[i],
            public_votes: c.votes,
            public_rank: public_ranks[i].unwrap_or(0),
            jury_score: c.jury.score,
            jury_rank: jury_ranks[i],
            jurors_scored: c.jury.jurors,
        })
        .collect();
    lines.sort_by_key(|l| (l.rank, l.nomination));
    lines
}

// ───────────── the snapshot document ─────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocAward {
    pub id: i64,
    pub slug: String,
    pub title: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocCriterion {
    pub id: i64,
    pub title: BTreeMap<String, String>,
    pub weight: f64,
    pub max_score: i32,
}

/// A juror by number (1, 2, … in the order they were invited): no name, no address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocJuror {
    pub number: u32,
    /// Category ids; empty means all of the award's.
    pub categories: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocNomination {
    pub id: i64,
    pub nominee: String,
    pub votes: i64,
    pub votes_excluded: i64,
    /// Why the excluded votes were excluded; absent when none were, so a document without
    /// quarantines reads as it always did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<DocExclusion>,
}

/// Votes of one nomination taken out by one kind of signal, with the admin's reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocExclusion {
    pub signal: String,
    pub reason: String,
    pub votes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocCategory {
    pub id: i64,
    pub title: BTreeMap<String, String>,
    pub votes_counted: i64,
    pub votes_excluded: i64,
    pub nominations: Vec<DocNomination>,
    pub ranking: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocCriterionScore {
    pub criterion: i64,
    pub score: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocScore {
    pub juror: u32,
    pub nomination: i64,
    pub criteria: Vec<DocCriterionScore>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocConflict {
    pub juror: u32,
    pub nomination: i64,
}

/// Everything the ranking depends on, and the ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub format: String,
    pub award: DocAward,
    pub frozen_at: String,
    pub formula: Formula,
    pub criteria: Vec<DocCriterion>,
    pub jurors: Vec<DocJuror>,
    pub scores: Vec<DocScore>,
    pub conflicts: Vec<DocConflict>,
    pub categories: Vec<DocCategory>,
    pub votes_counted: i64,
    pub votes_excluded: i64,
}

impl Document {
    fn specs(&self) -> Vec<CriterionSpec> {
        self.criteria
            .iter()
            .map(|c| CriterionSpec {
                id: c.id,
                weight: c.weight,
                max_score: c.max_score,
            })
            .collect()
    }
}

/// The ranking of every category of `doc`, recomputed from its inputs alone (its own `ranking`
/// fields are not read).
pub fn rank_document(doc: &Document) -> Vec<Vec<Line>> {
    let specs = doc.specs();
    doc.categories
        .iter()
        .map(|cat| {
            let ids: Vec<i64> = cat.nominations.iter().map(|n| n.id).collect();
            let in_cat: BTreeSet<i64> = ids.iter().copied().collect();
            let jurors: Vec<JurorTotals> = doc
                .jurors
                .iter()
                .filter(|j| j.categories.is_empty() || j.categories.contains(&cat.id))
                .map(|j| JurorTotals {
                    juror: j.number,
                    totals: doc
                        .scores
                        .iter()
                        .filter(|s| s.juror == j.number && in_cat.contains(&s.nomination))
                        .map(|s| {
                            let given: Vec<(i64, i32)> =
                                s.criteria.iter().map(|c| (c.criterion, c.score)).collect();
                            (s.nomination, juror_total(&specs, &given))
                        })
                        .collect(),
                })
                .collect();
            let jury = if doc.formula.has_jury() || !jurors.is_empty() {
                jury_scores(&ids, &jurors, doc.formula.normalize_jurors)
            } else {
                BTreeMap::new()
            };
            let components: Vec<Components> = cat
                .nominations
                .iter()
                .map(|n| Components {
                    nomination: n.id,
                    votes: n.votes,
                    jury: jury.get(&n.id).copied().unwrap_or(JuryScore {
                        score: None,
                        jurors: 0,
                    }),
                })
                .collect();
            combine(&doc.formula, &components)
        })
        .collect()
}

/// `v` as canonical JSON: object keys sorted (by their UTF-8 bytes), no whitespace, strings
/// escaped as serde_json escapes them, numbers as serde_json prints them (shortest round-trip
/// form for floats). Written by hand so that no crate feature (such as preserve_order) can
/// change the bytes.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The document's canonical bytes and their hex SHA-256.
pub fn serialize(doc: &Document) -> Result<(String, String)> {
    let v = serde_json::to_value(doc).map_err(|e| Error::Internal(format!("snapshot: {e}")))?;
    let text = canonical_json(&v);
    let hash = sha256_hex(text.as_bytes());
    Ok((text, hash))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the verifier found.
#[derive(Debug, Default)]
pub struct Verification {
    pub sha256: String,
    pub categories: usize,
    /// Empty when everything matches.
    pub problems: Vec<String>,
}

impl Verification {
    pub fn matches(&self) -> bool {
        self.problems.is_empty()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TIE_EPSILON
}

/// Recomputes the ranking from the document's inputs and compares it with the ranking it
/// states, line by line; also checks that the bytes are the canonical form of what they say
/// and that the totals add up.
pub fn verify(bytes: &[u8]) -> Verification {
    let mut report = Verification {
        sha256: sha256_hex(bytes),
        ..Verification::default()
    };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            report.problems.push(format!("not JSON: {e}"));
            return report;
        }
    };
    if canonical_json(&value).as_bytes() != bytes {
        report
            .problems
            .push("not in canonical form (sorted keys, no whitespace)".into());
    }
    let doc: Document = match serde_json::from_value(value) {
        Ok(d) => d,
        Err(e) => {
            report.problems.push(format!("not a results document: {e}"));
            return report;
        }
    };
    if doc.format != FORMAT {
        report
            .problems
            .push(format!("unknown format {:?}", doc.format));
        return report;
    }
    report.categories = doc.categories.len();
    if !close(doc.formula.public_weight + doc.formula.jury_weight, 1.0) {
        report
            .problems
            .push("publicWeight + juryWeight is not 1".into());
    }
    let mut counted = 0;
    let mut excluded = 0;
    for (cat, computed) in doc.categories.iter().zip(rank_document(&doc)) {
        let votes: i64 = cat.nominations.iter().map(|n| n.votes).sum();
        let out: i64 = cat.nominations.iter().map(|n| n.votes_excluded).sum();
        counted += votes;
        excluded += out;
        for n in &cat.nominations {
            let explained: i64 = n.exclusions.iter().map(|e| e.votes).sum();
            if !n.exclusions.is_empty() && explained != n.votes_excluded {
                report.problems.push(format!(
                    "nomination {}: the exclusions' votes do not add up to its excluded votes",
                    n.id
                ));
            }
        }
        if votes != cat.votes_counted || out != cat.votes_excluded {
            report.problems.push(format!(
                "category {}: the nominations' votes do not add up to the category's",
                cat.id
            ));
        }
        if computed.len() != cat.ranking.len() {
            report.problems.push(format!(
                "category {}: {} lines stated, {} computed",
                cat.id,
                cat.ranking.len(),
                computed.len()
            ));
            continue;
        }
        for (stated, got) in cat.ranking.iter().zip(&computed) {
            let same = stated.nomination == got.nomination
                && stated.rank == got.rank
                && close(stated.score, got.score)
                && stated.public_votes == got.public_votes
                && stated.public_rank == got.public_rank
                && stated.jury_rank == got.jury_rank
                && stated.jurors_scored == got.jurors_scored
                && match (stated.jury_score, got.jury_score) {
                    (Some(a), Some(b)) => close(a, b),
                    (None, None) => true,
                    _ => false,
                };
            if !same {
                report.problems.push(format!(
                    "category {}: stated {stated:?}, computed {got:?}",
                    cat.id
                ));
            }
        }
    }
    if counted != doc.votes_counted || excluded != doc.votes_excluded {
        report
            .problems
            .push("the categories' votes do not add up to the document's totals".into());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crit(id: i64, weight: f64, max_score: i32) -> CriterionSpec {
        CriterionSpec {
            id,
            weight,
            max_score,
        }
    }

    fn comp(nomination: i64, votes: i64, jury: Option<f64>) -> Components {
        Components {
            nomination,
            votes,
            jury: JuryScore {
                score: jury,
                jurors: i32::from(jury.is_some()),
            },
        }
    }

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn a_total_is_the_weighted_mean_of_score_over_max() {
        // Weights 2 and 1 scale to 2/3 and 1/3: 2/3·(8/10) + 1/3·(3/5) = 0.5333… + 0.2 = 0.7333…
        let c = [crit(1, 2.0, 10), crit(2, 1.0, 5)];
        assert!(near(
            juror_total(&c, &[(1, 8), (2, 3)]),
            2.0 / 3.0 * 0.8 + 0.2
        ));
        assert!(near(juror_total(&c, &[(1, 10), (2, 5)]), 1.0));
        assert!(near(juror_total(&c, &[(1, 0), (2, 0)]), 0.0));
    }

    #[test]
    fn scores_must_name_every_criterion_once_within_range() {
        let c = [crit(1, 1.0, 10), crit(2, 1.0, 5)];
        assert_eq!(
            check_scores(&c, &[(2, 5), (1, 0)]).unwrap(),
            [(1, 0), (2, 5)]
        );
        for bad in [
            vec![(1, 3)],
            vec![(1, 3), (1, 4), (2, 1)],
            vec![(1, 11), (2, 1)],
            vec![(1, -1), (2, 1)],
            vec![(1, 1), (2, 1), (3, 1)],
        ] {
            assert!(
                matches!(check_scores(&c, &bad), Err(Error::BadInput { field, .. }) if field == "scores"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_jury_score_is_the_mean_over_jurors_who_scored() {
        // Juror 1 scored a=0.8, b=0.4; juror 2 scored a=0.6 and declared a conflict on b.
        let jurors = [
            JurorTotals {
                juror: 1,
                totals: vec![(10, 0.8), (11, 0.4)],
            },
            JurorTotals {
                juror: 2,
                totals: vec![(10, 0.6)],
            },
        ];
        let s = jury_scores(&[10, 11, 12], &jurors, false);
        assert!(near(s[&10].score.unwrap(), 0.7));
        assert_eq!(s[&10].jurors, 2);
        assert!(near(s[&11].score.unwrap(), 0.4));
        assert_eq!(s[&11].jurors, 1);
        assert_eq!(s[&12].score, None);
    }

    #[test]
    fn normalization_makes_a_harsh_and_a_lenient_juror_weigh_alike() {
        // Harsh juror: a 0.2, b 0.4; lenient juror: a 0.8, b 0.6. Each juror's z-scores are
        // −1/+1 and +1/−1, so both nominees average z = 0 and get M, the mean of all four (0.5).
        let jurors = [
            JurorTotals {
                juror: 1,
                totals: vec![(1, 0.2), (2, 0.4)],
            },
            JurorTotals {
                juror: 2,
                totals: vec![(1, 0.8), (2, 0.6)],
            },
        ];
        let s = jury_scores(&[1, 2], &jurors, true);
        assert!(near(s[&1].score.unwrap(), 0.5), "{s:?}");
        assert!(near(s[&2].score.unwrap(), 0.5), "{s:?}");
        // Nominee 3 is scored only by the harsh juror with its best total, nominee 4 only by
        // the lenient one with its worst: raw, 4 (0.5) beats 3 (0.45); normalized, 3 is at the
        // top of its juror's range and 4 at the bottom of its juror's, so 3 wins.
        let jurors = [
            JurorTotals {
                juror: 1,
                totals: vec![(1, 0.25), (3, 0.45)],
            },
            JurorTotals {
                juror: 2,
                totals: vec![(1, 0.7), (4, 0.5)],
            },
        ];
        let raw = jury_scores(&[1, 3, 4], &jurors, false);
        assert!(raw[&4].score > raw[&3].score);
        let n = jury_scores(&[1, 3, 4], &jurors, true);
        // All totals 0.25, 0.45, 0.7, 0.5: M = 0.475, S = sqrt((0.050625+0.000625+0.050625+0.000625)/4)
        // = sqrt(0.025625). Nominee 3: z = +1 → M + S; nominee 4: z = −1 → M − S; nominee 1:
        // (M − S + M + S) / 2 = M.
        let s_all = 0.025625f64.sqrt();
        assert!(near(n[&3].score.unwrap(), 0.475 + s_all), "{n:?}");
        assert!(near(n[&4].score.unwrap(), 0.475 - s_all), "{n:?}");
        assert!(near(n[&1].score.unwrap(), 0.475), "{n:?}");
        // A juror whose totals are all equal gives M to each.
        let flat = [JurorTotals {
            juror: 1,
            totals: vec![(1, 0.3), (2, 0.3)],
        }];
        let f = jury_scores(&[1, 2], &flat, true);
        assert!(near(f[&1].score.unwrap(), 0.3));
    }

    #[test]
    fn rank_points_half_and_half() {
        // Votes: a 30, b 20, c 20, d 5 → public ranks 1, 2, 2, 4 → points 5, 4, 4, 2.
        // Jury: a 0.5, b 0.9, c 0.7, d none → jury ranks 3, 1, 2, – → points 3, 5, 4, 0.
        // Scores (0.5 each): a 4, b 4.5, c 4, d 1 → ranks b 1, a 2, c 2, d 4.
        let f = Formula::new(0.5, Method::RankPoints, Some(vec![5, 4, 3, 2, 1]), false).unwrap();
        let lines = combine(
            &f,
            &[
                comp(1, 30, Some(0.5)),
                comp(2, 20, Some(0.9)),
                comp(3, 20, Some(0.7)),
                comp(4, 5, None),
            ],
        );
        let got: Vec<(i64, i32, f64, i32, Option<i32>)> = lines
            .iter()
            .map(|l| (l.nomination, l.rank, l.score, l.public_rank, l.jury_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 1, 4.5, 2, Some(1)),
                (1, 2, 4.0, 1, Some(3)),
                (3, 2, 4.0, 2, Some(2)),
                (4, 4, 1.0, 4, None),
            ]
        );
    }

    #[test]
    fn rank_points_beyond_the_list_earn_nothing() {
        let f = Formula::new(1.0, Method::RankPoints, Some(vec![3, 1]), false).unwrap();
        let lines = combine(&f, &[comp(1, 9, None), comp(2, 5, None), comp(3, 1, None)]);
        assert_eq!(
            lines.iter().map(|l| l.score).collect::<Vec<_>>(),
            [3.0, 1.0, 0.0]
        );
    }

    #[test]
    fn weighted_share() {
        // 0.25 public, 0.75 jury. Votes 60/40 of 100; jury 0.2 and 0.6.
        // a: 0.25·0.6 + 0.75·0.2 = 0.3; b: 0.25·0.4 + 0.75·0.6 = 0.55.
        let f = Formula::new(0.25, Method::WeightedShare, None, false).unwrap();
        let lines = combine(&f, &[comp(1, 60, Some(0.2)), comp(2, 40, Some(0.6))]);
        assert_eq!(lines[0].nomination, 2);
        assert!(near(lines[0].score, 0.55));
        assert!(near(lines[1].score, 0.3));
        // The default formula orders exactly by votes, ties sharing a rank.
        let lines = combine(
            &Formula::default(),
            &[
                comp(1, 3, None),
                comp(2, 5, None),
                comp(3, 3, None),
                comp(4, 0, None),
            ],
        );
        let got: Vec<(i64, i32)> = lines.iter().map(|l| (l.nomination, l.rank)).collect();
        assert_eq!(got, vec![(2, 1), (1, 2), (3, 2), (4, 4)]);
        // No votes at all: everyone shares rank 1 with score 0.
        let lines = combine(&Formula::default(), &[comp(1, 0, None), comp(2, 0, None)]);
        assert!(lines.iter().all(|l| l.rank == 1 && l.score == 0.0));
    }

    #[test]
    fn scores_within_the_epsilon_tie() {
        let ranks = competition_ranks(&[Some(0.5), Some(0.5 + 1e-10), Some(0.4), None], 1e-9);
        assert_eq!(ranks, vec![Some(1), Some(1), Some(3), None]);
    }

    #[test]
    fn formulas_are_checked() {
        assert!(Formula::new(1.5, Method::WeightedShare, None, false).is_err());
        assert!(Formula::new(f64::NAN, Method::WeightedShare, None, false).is_err());
        assert!(Formula::new(0.5, Method::RankPoints, None, false).is_err());
        assert!(Formula::new(0.5, Method::RankPoints, Some(vec![1, 2]), false).is_err());
        assert!(Formula::new(0.5, Method::RankPoints, Some(vec![0]), false).is_err());
        assert!(Formula::new(0.5, Method::WeightedShare, Some(vec![3]), false).is_err());
        let f = Formula::new(0.3, Method::RankPoints, Some(vec![5, 4, 4, 0]), true).unwrap();
        assert!(near(f.public_weight + f.jury_weight, 1.0));
    }

    #[test]
    fn canonical_json_sorts_keys_without_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, 2.5, "ü\n"], "a": {"z": null, "y": true} }"#)
                .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"y":true,"z":null},"b":[1,2.5,"ü\n"]}"#
        );
    }

    fn sample_document() -> Document {
        let title = |s: &str| BTreeMap::from([("en".to_owned(), s.to_owned())]);
        let mut doc = Document {
            format: FORMAT.into(),
            award: DocAward {
                id: 1,
                slug: "voty-2026".into(),
                title: title("Volunteer of the Year"),
            },
            frozen_at: "2026-12-03T00:00:00Z".into(),
            formula: Formula::new(0.5, Method::RankPoints, Some(vec![5, 4, 3, 2, 1]), false)
                .unwrap(),
            criteria: vec![
                DocCriterion {
                    id: 1,
                    title: title("Impact"),
                    weight: 2.0,
                    max_score: 10,
                },
                DocCriterion {
                    id: 2,
                    title: title("Reach"),
                    weight: 1.0,
                    max_score: 5,
                },
            ],
            jurors: vec![
                DocJuror {
                    number: 1,
                    categories: vec![],
                },
                DocJuror {
                    number: 2,
                    categories: vec![7],
                },
            ],
            scores: vec![
                DocScore {
                    juror: 1,
                    nomination: 100,
                    criteria: vec![
                        DocCriterionScore {
                            criterion: 1,
                            score: 9,
                        },
                        DocCriterionScore {
                            criterion: 2,
                            score: 2,
                        },
                    ],
                },
                DocScore {
                    juror: 2,
                    nomination: 101,
                    criteria: vec![
                        DocCriterionScore {
                            criterion: 1,
                            score: 10,
                        },
                        DocCriterionScore {
                            criterion: 2,
                            score: 5,
                        },
                    ],
                },
            ],
            conflicts: vec![DocConflict {
                juror: 1,
                nomination: 101,
            }],
            categories: vec![DocCategory {
                id: 7,
                title: title("Project"),
                votes_counted: 5,
                votes_excluded: 1,
                nominations: vec![
                    DocNomination {
                        id: 100,
                        nominee: "A".into(),
                        votes: 2,
                        votes_excluded: 1,
                        exclusions: vec![DocExclusion {
                            signal: "SHARED_NETWORK".into(),
                            reason: "one office".into(),
                            votes: 1,
                        }],
                    },
                    DocNomination {
                        id: 101,
                        nominee: "B".into(),
                        votes: 3,
                        votes_excluded: 0,
                        exclusions: vec![],
                    },
                ],
                ranking: vec![],
            }],
            votes_counted: 5,
            votes_excluded: 1,
        };
        let ranked = rank_document(&doc);
        doc.categories[0].ranking = ranked[0].clone();
        doc
    }

    #[test]
    fn a_document_verifies_and_a_tampered_one_does_not() {
        let doc = sample_document();
        // B: public rank 1 (5 points), jury 1.0 from juror 2 (rank 1, 5 points) → 5.
        // A: public rank 2 (4), jury 2/3·0.9 + 1/3·0.4 = 0.7333 (rank 2, 4) → 4.
        let r = &doc.categories[0].ranking;
        assert_eq!((r[0].nomination, r[0].rank, r[0].score), (101, 1, 5.0));
        assert_eq!((r[1].nomination, r[1].rank, r[1].score), (100, 2, 4.0));
        let (text, hash) = serialize(&doc).unwrap();
        let v = verify(text.as_bytes());
        assert!(v.matches(), "{:?}", v.problems);
        assert_eq!(v.sha256, hash);
        // One criterion score changed: the stated ranking no longer follows.
        let tampered = text.replacen(
            r#""criterion":1,"score":9"#,
            r#""criterion":1,"score":1"#,
            1,
        );
        assert_ne!(tampered, text);
        assert!(!verify(tampered.as_bytes()).matches());
        // Pretty-printed: same content, not canonical.
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
        assert!(!verify(pretty.as_bytes()).matches());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn criteria() -> impl Strategy<Value = Vec<CriterionSpec>> {
            prop::collection::vec((0.01f64..100.0, 1i32..=20), 1..5).prop_map(|v| {
                v.into_iter()
                    .enumerate()
                    .map(|(i, (w, m))| crit(i as i64 + 1, w, m))
                    .collect()
            })
        }

        /// Up to 5 jurors' totals over nominations 1..=6, some missing (conflicts).
        fn jurors() -> impl Strategy<Value = Vec<JurorTotals>> {
            prop::collection::vec(
                prop::collection::vec(prop::option::of(0.0f64..=1.0), 6),
                1..5,
            )
            .prop_map(|js| {
                js.into_iter()
                    .enumerate()
                    .map(|(j, ts)| JurorTotals {
                        juror: j as u32 + 1,
                        totals: ts
                            .into_iter()
                            .enumerate()
                            .filter_map(|(n, t)| t.map(|t| (n as i64 + 1, t)))
                            .collect(),
                    })
                    .collect()
            })
        }

        fn formula() -> impl Strategy<Value = Formula> {
            (0.0f64..=1.0, any::<bool>(), any::<bool>()).prop_map(|(w, rp, norm)| {
                if rp {
                    Formula::new(w, Method::RankPoints, Some(vec![5, 4, 3, 2, 1]), norm)
                } else {
                    Formula::new(w, Method::WeightedShare, None, norm)
                }
                .unwrap()
            })
        }

        fn components() -> impl Strategy<Value = Vec<Components>> {
            prop::collection::vec((0i64..50, prop::option::of(0.0f64..=1.0)), 1..8).prop_map(|v| {
                v.into_iter()
                    .enumerate()
                    .map(|(i, (votes, jury))| comp(i as i64 + 1, votes, jury))
                    .collect()
            })
        }

        fn rank_of(lines: &[Line], n: i64) -> i32 {
            lines.iter().find(|l| l.nomination == n).unwrap().rank
        }

        const NOMS: [i64; 6] = [1, 2, 3, 4, 5, 6];

        proptest! {
            #[test]
            fn weights_sum_to_one(c in criteria(), f in formula()) {
                let sum: f64 = normalized_weights(&c).iter().sum();
                prop_assert!((sum - 1.0).abs() < 1e-12);
                prop_assert!((f.public_weight + f.jury_weight - 1.0).abs() < 1e-12);
            }

            #[test]
            fn totals_stay_within_zero_and_one(c in criteria(), raw in prop::collection::vec(0i32..=20, 5)) {
                let scores: Vec<(i64, i32)> =
                    c.iter().zip(&raw).map(|(c, s)| (c.id, (*s).min(c.max_score))).collect();
                let t = juror_total(&c, &scores);
                prop_assert!((0.0..=1.0).contains(&t));
            }

            #[test]
            fn more_votes_never_worsen_a_rank(f in formula(), cs in components(), pick in 0usize..8, more in 1i64..20) {
                let i = pick % cs.len();
                let before = rank_of(&combine(&f, &cs), cs[i].nomination);
                let mut up = cs.clone();
                up[i].votes += more;
                prop_assert!(rank_of(&combine(&f, &up), cs[i].nomination) <= before);
            }

            #[test]
            fn a_higher_jury_score_never_worsens_a_rank(f in formula(), cs in components(), pick in 0usize..8, more in 0.0f64..1.0) {
                let i = pick % cs.len();
                let before = rank_of(&combine(&f, &cs), cs[i].nomination);
                let mut up = cs.clone();
                up[i].jury.score = Some((up[i].jury.score.unwrap_or(0.0) + more).min(1.0));
                up[i].jury.jurors = up[i].jury.jurors.max(1);
                prop_assert!(rank_of(&combine(&f, &up), cs[i].nomination) <= before);
            }

            #[test]
            fn a_conflict_never_scores_lower_than_a_zero(js in jurors(), pick in 0usize..5, n in 1i64..=6) {
                let j = pick % js.len();
                let mut conflict = js.clone();
                conflict[j].totals.retain(|(m, _)| *m != n);
                let mut zero = conflict.clone();
                zero[j].totals.push((n, 0.0));
                // Raw: a zero from that juror would be one more term at the bottom of the mean.
                let with_conflict = jury_scores(&NOMS, &conflict, false)[&n].score.unwrap_or(0.0);
                let with_zero = jury_scores(&NOMS, &zero, false)[&n].score.unwrap_or(0.0);
                prop_assert!(with_conflict + 1e-12 >= with_zero);
                // Normalized: the conflict is left out of the mean, never counted as 0.
                let s = jury_scores(&NOMS, &conflict, true)[&n];
                if let Some(score) = s.score {
                    let as_zero = score * f64::from(s.jurors) / f64::from(s.jurors + 1);
                    prop_assert!(score + 1e-12 >= as_zero);
                    prop_assert_eq!(s.jurors as usize, conflict.iter().filter(|x| x.totals.iter().any(|(m, _)| *m == n)).count());
                }
            }

            #[test]
            fn permuting_jurors_changes_nothing(js in jurors(), norm in any::<bool>(), seed in any::<u64>()) {
                let mut shuffled = js.clone();
                // A deterministic shuffle from the seed; the numbers go with their jurors' new places.
                let len = shuffled.len();
                for i in (1..len).rev() {
                    let k = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                    shuffled.swap(i, k);
                }
                for (i, j) in shuffled.iter_mut().enumerate() {
                    j.juror = i as u32 + 1;
                    j.totals.reverse();
                }
                let a = jury_scores(&NOMS, &js, norm);
                let b = jury_scores(&NOMS, &shuffled, norm);
                for n in NOMS {
                    prop_assert_eq!(a[&n].jurors, b[&n].jurors);
                    match (a[&n].score, b[&n].score) {
                        (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-12),
                        (x, y) => prop_assert_eq!(x, y),
                    }
                }
            }
        }
    }
}
