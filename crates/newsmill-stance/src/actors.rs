//! Grouping of an article's mentions into actors, and aggregation of their stance.
//!
//! Rules (in this order):
//! 1. A mention's key is its text without leading titles ("President", "Mr.", ...), without a
//!    possessive ending ("'s", "’s", "'") and lower-cased; mentions with the same key are one
//!    actor, whatever label each mention got.
//! 2. A one-word PER mention ("Putin", "Kim") joins a longer PER actor whose last word — or,
//!    when no last word matches, whose first word (family-name-first names such as "Kim Jong
//!    Un") — is that word. When several actors match (two people sharing a surname), it joins
//!    the one mentioned most recently before it, or else the first one mentioned after it.
//! 3. Places and organisations are merged on equal keys and by the two alias rules below:
//!    "North Korea" (LOC) and "North Korean" (MISC, a demonym) stay apart, since telling a
//!    demonym from its country needs a lexicon newsmill does not have.
//! 4. Acronyms: a non-PER actor whose name is an acronym or initialism (2–6 capital letters,
//!    dots allowed: "EU", "U.N.", "NATO") joins the non-PER actor of two or more words whose
//!    initials spell it, small function words ("of", "the", "and", "for", "de", ...) skipped:
//!    "EU" → "European Union", "US" → "United States", "USA" → "United States of America".
//!    When several actors spell it, the one mentioned first.
//! 5. Short forms: an ORG or LOC actor whose words are the last words of exactly one longer ORG
//!    or LOC actor joins it ("Porto" → "FC Porto"); with two such actors ("Korea" beside "North
//!    Korea" and "South Korea") it stays alone.
//!
//! An actor's name is its longest mention (most words, then earliest); its label the most
//! frequent label of its mentions (ties: the earliest); its stance the mean of its mentions'
//! class probabilities, labelled by the largest mean.

use std::collections::BTreeMap;

use crate::{Actor, Scored};

/// A mention to group: surface text, label, character offset, stance probabilities (label
/// names and values) when scored.
#[derive(Debug, Clone)]
pub struct Mention<'a> {
    pub text: &'a str,
    pub label: &'a str,
    pub start: usize,
    pub stance: Option<&'a Scored>,
}

const TITLES: &[&str] = &[
    "president",
    "prime",
    "minister",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "sir",
    "dame",
    "lord",
    "lady",
    "king",
    "queen",
    "prince",
    "princess",
    "leader",
    "chancellor",
    "senator",
    "sen",
    "governor",
    "gov",
    "general",
    "gen",
    "secretary",
    "chairman",
    "chairwoman",
    "chief",
    "judge",
    "justice",
    "pope",
    "rev",
    "professor",
    "prof",
    "coach",
    "captain",
    "capt",
    "deputy",
    "vice",
    "foreign",
    "defence",
    "defense",
    "premier",
    "ambassador",
    "mayor",
    "russian",
    "american",
    "british",
    "chinese",
    "french",
    "german",
    "north",
    "south",
];

/// The words of a mention's key: titles dropped from the front (PER only; other labels keep
/// every word), possessive dropped from the end, lower-cased.
fn key_words(text: &str, label: &str) -> Vec<String> {
    let trimmed = text
        .trim()
        .trim_end_matches("'s")
        .trim_end_matches("’s")
        .trim_end_matches(['\'', '’']);
    let mut words: Vec<String> = trimmed
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if label == "PER" {
        while words.len() > 1 && TITLES.contains(&words[0].as_str()) {
            words.remove(0);
        }
    }
    words
}

/// Groups mentions into actors, ordered by first mention. Returns the actors and, for each
/// mention, the index of its actor.
pub fn group_actors(mentions: &[Mention]) -> (Vec<Actor>, Vec<usize>) {
    let keys: Vec<Vec<String>> = mentions
        .iter()
        .map(|m| key_words(m.text, m.label))
        .collect();
    // rule 1: exact keys, in order of first appearance
    let mut order: Vec<usize> = (0..mentions.len()).collect();
    order.sort_by_key(|&i| (mentions[i].start, i));
    let mut group_of_key: BTreeMap<&[String], usize> = BTreeMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group = vec![usize::MAX; mentions.len()];
    for &i in &order {
        let g = *group_of_key.entry(keys[i].as_slice()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
        group[i] = g;
    }
    let is_per =
        |g: &[usize]| g.iter().filter(|&&i| mentions[i].label == "PER").count() * 2 > g.len();
    // rule 2: one-word PER mentions join a longer PER group
    let long: Vec<usize> = (0..groups.len())
        .filter(|&g| is_per(&groups[g]) && keys[groups[g][0]].len() > 1)
        .collect();
    for &i in &order {
        if mentions[i].label != "PER" || keys[i].len() != 1 {
            continue;
        }
        let w = &keys[i][0];
        let by_last: Vec<usize> = long
            .iter()
            .copied()
            .filter(|&g| keys[groups[g][0]].last() == Some(w))
            .collect();
        let cands = if by_last.is_empty() {
            long.iter()
                .copied()
                .filter(|&g| keys[groups[g][0]].first() == Some(w))
                .collect()
        } else {
            by_last
        };
        if cands.is_empty() {
            continue;
        }
        let start = mentions[i].start;
        let before = cands
            .iter()
            .filter_map(|&g| {
                groups[g]
                    .iter()
                    .map(|&j| mentions[j].start)
                    .filter(|&s| s < start && keys[groups[g][0]].len() > 1)
                    .max()
                    .map(|s| (s, g))
            })
            .max();
        let target = match before {
            Some((_, g)) => g,
            None => *cands
                .iter()
                .min_by_key(|&&g| groups[g].iter().map(|&j| mentions[j].start).min())
                .expect("candidates are not empty"),
        };
        let old = group[i];
        if old != target {
            groups[old].retain(|&j| j != i);
            groups[target].push(i);
            group[i] = target;
        }
    }
    // rules 4 and 5: acronyms and short forms join the longer ORG/LOC/MISC actor they stand for
    let majority = |g: &[usize]| -> &str {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in g {
            *counts.entry(mentions[i].label).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .map_or("", |(l, _)| l)
    };
    for g in 0..groups.len() {
        if groups[g].is_empty() || is_per(&groups[g]) {
            continue;
        }
        let first = groups[g][0];
        let key = &keys[first];
        let others = |h: &usize| *h != g && !groups[*h].is_empty() && !is_per(&groups[*h]);
        let first_seen = |h: &usize| groups[*h].iter().map(|&j| mentions[j].start).min();
        let target = if let Some(letters) = acronym(mentions[first].text) {
            (0..groups.len())
                .filter(others)
                .filter(|&h| {
                    let k = &keys[groups[h][0]];
                    k.len() >= 2 && initials(k) == letters
                })
                .min_by_key(first_seen)
        } else if matches!(majority(&groups[g]), "ORG" | "LOC") {
            let longer: Vec<usize> = (0..groups.len())
                .filter(others)
                .filter(|&h| {
                    let k = &keys[groups[h][0]];
                    matches!(majority(&groups[h]), "ORG" | "LOC")
                        && k.len() > key.len()
                        && k.ends_with(key)
                })
                .collect();
            (longer.len() == 1).then(|| longer[0])
        } else {
            None
        };
        if let Some(t) = target {
            let moved = std::mem::take(&mut groups[g]);
            for &i in &moved {
                group[i] = t;
            }
            groups[t].extend(moved);
        }
    }
    // build actors
    let mut actors: Vec<(usize, Actor)> = Vec::new();
    for (g, members) in groups.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let mut members = members.clone();
        members.sort_by_key(|&i| (mentions[i].start, i));
        let name_of = members
            .iter()
            .copied()
            .max_by_key(|&i| (keys[i].len(), std::cmp::Reverse(mentions[i].start)))
            .expect("non-empty");
        let mut label_counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (rank, &i) in members.iter().enumerate() {
            let e = label_counts.entry(mentions[i].label).or_insert((0, rank));
            e.0 += 1;
        }
        let label = label_counts
            .iter()
            .max_by_key(|(_, &(n, first))| (n, std::cmp::Reverse(first)))
            .map(|(l, _)| l.to_string())
            .unwrap_or_default();
        let (stance, stance_counts) =
            mean_stance(members.iter().filter_map(|&i| mentions[i].stance));
        actors.push((
            g,
            Actor {
                name: clean_name(mentions[name_of].text, &label),
                label,
                mentions: members.len(),
                first: mentions[members[0]].start,
                mention_ids: members,
                stance,
                stance_counts,
            },
        ));
    }
    actors.sort_by_key(|(_, a)| (a.first, a.mention_ids[0]));
    let mut actor_of = vec![0usize; mentions.len()];
    for (idx, (_, a)) in actors.iter().enumerate() {
        for &m in &a.mention_ids {
            actor_of[m] = idx;
        }
    }
    (actors.into_iter().map(|(_, a)| a).collect(), actor_of)
}

/// Small words an acronym skips ("United States of America" → USA).
const ACRONYM_SKIPS: &[&str] = &[
    "of", "the", "and", "for", "&", "de", "du", "des", "la", "le", "del", "on", "in",
];

/// The lower-case letters of a mention that is an acronym or initialism: 2–6 capital letters
/// once dots and a possessive are dropped ("EU", "U.N.", "NATO's").
fn acronym(text: &str) -> Option<String> {
    let t = text
        .trim()
        .trim_end_matches("'s")
        .trim_end_matches("’s")
        .replace('.', "");
    ((2..=6).contains(&t.chars().count()) && t.chars().all(|c| c.is_ascii_uppercase()))
        .then(|| t.to_ascii_lowercase())
}

/// The initials of a key's words, small words skipped.
fn initials(key: &[String]) -> String {
    key.iter()
        .filter(|w| !ACRONYM_SKIPS.contains(&w.as_str()))
        .filter_map(|w| w.chars().next())
        .collect()
}

/// The display form of a name: the mention without leading titles or possessive, original case.
fn clean_name(text: &str, label: &str) -> String {
    let mut words: Vec<&str> = text
        .trim()
        .trim_end_matches("'s")
        .trim_end_matches("’s")
        .trim_end_matches(['\'', '’'])
        .split_whitespace()
        .collect();
    if label == "PER" {
        while words.len() > 1
            && TITLES.contains(
                &words[0]
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
                    .as_str(),
            )
        {
            words.remove(0);
        }
    }
    words.join(" ")
}

/// Mean of class probabilities, and mentions per predicted label.
pub fn mean_stance<'a>(
    scores: impl Iterator<Item = &'a Scored>,
) -> (Option<Scored>, BTreeMap<String, usize>) {
    let mut sum: BTreeMap<String, f32> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0usize;
    for s in scores {
        n += 1;
        *counts.entry(s.label.clone()).or_default() += 1;
        for (l, p) in &s.probs {
            *sum.entry(l.clone()).or_default() += p;
        }
    }
    if n == 0 {
        return (None, counts);
    }
    let labels: Vec<String> = sum.keys().cloned().collect();
    let probs: Vec<f32> = sum.values().map(|v| v / n as f32).collect();
    (Some(Scored::from_probs(&labels, &probs)), counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m<'a>(text: &'a str, label: &'a str, start: usize) -> Mention<'a> {
        Mention {
            text,
            label,
            start,
            stance: None,
        }
    }

    fn names(ms: &[Mention]) -> Vec<(String, usize)> {
        let (actors, _) = group_actors(ms);
        actors
            .iter()
            .map(|a| (a.name.clone(), a.mentions))
            .collect()
    }

    #[test]
    fn surname_titles_possessives() {
        let ms = [
            m("Vladimir Putin", "PER", 10),
            m("Putin", "PER", 50),
            m("Putin's", "PER", 90),
            m("President Putin", "PER", 120),
            m("Kim Jong Un", "PER", 200),
            m("Kim", "PER", 260),
            m("Russia", "LOC", 300),
            m("Russia", "ORG", 320),
        ];
        assert_eq!(
            names(&ms),
            vec![
                ("Vladimir Putin".into(), 4),
                ("Kim Jong Un".into(), 2),
                ("Russia".into(), 2)
            ]
        );
        let (actors, of) = group_actors(&ms);
        assert_eq!(actors[2].label, "LOC", "ties go to the earliest label");
        assert_eq!(of, vec![0, 0, 0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn shared_surname_goes_to_the_latest_full_name() {
        let ms = [
            m("Bill Clinton", "PER", 0),
            m("Hillary Clinton", "PER", 100),
            m("Clinton", "PER", 150),
            m("Bill Clinton", "PER", 200),
            m("Clinton", "PER", 250),
        ];
        let (actors, of) = group_actors(&ms);
        assert_eq!(actors.len(), 2);
        assert_eq!(of, vec![0, 1, 1, 0, 0]);
        assert_eq!((actors[0].mentions, actors[1].mentions), (3, 2));
    }

    #[test]
    fn surname_before_full_name_and_demonyms() {
        let ms = [
            m("Ushakov", "PER", 0),
            m("Yuri Ushakov", "PER", 40),
            m("North Korea", "LOC", 60),
            m("North Korean", "MISC", 90),
        ];
        assert_eq!(
            names(&ms),
            vec![
                ("Yuri Ushakov".into(), 2),
                ("North Korea".into(), 1),
                ("North Korean".into(), 1)
            ]
        );
        assert!(group_actors(&[]).0.is_empty());
    }

    #[test]
    fn acronyms_join_the_name_they_spell() {
        let ms = [
            m("European Union", "ORG", 0),
            m("EU", "ORG", 40),
            m("the United Nations", "ORG", 60),
            m("U.N.", "ORG", 90),
            m("United States", "LOC", 120),
            m("US", "LOC", 150),
            m("North Atlantic Treaty Organization", "ORG", 170),
            m("NATO's", "ORG", 220),
            m("IMF", "ORG", 260),
            m("EU", "PER", 280),
        ];
        assert_eq!(
            names(&ms),
            vec![
                ("European Union".into(), 3),
                ("the United Nations".into(), 2),
                ("United States".into(), 2),
                ("North Atlantic Treaty Organization".into(), 2),
                ("IMF".into(), 1),
            ]
        );
    }

    #[test]
    fn short_forms_join_one_longer_name() {
        let ms = [
            m("FC Porto", "ORG", 0),
            m("Porto", "ORG", 30),
            m("North Korea", "LOC", 60),
            m("South Korea", "LOC", 90),
            m("Korea", "LOC", 120),
            m("Jong Un", "PER", 150),
            m("Un", "ORG", 170),
        ];
        assert_eq!(
            names(&ms),
            vec![
                ("FC Porto".into(), 2),
                ("North Korea".into(), 1),
                ("South Korea".into(), 1),
                ("Korea".into(), 1),
                ("Jong Un".into(), 1),
                ("Un".into(), 1),
            ]
        );
    }

    #[test]
    fn stance_is_the_mean() {
        let labels = vec![
            "negative".to_string(),
            "neutral".to_string(),
            "positive".to_string(),
        ];
        let a = Scored::from_probs(&labels, &[0.7, 0.2, 0.1]);
        let b = Scored::from_probs(&labels, &[0.1, 0.2, 0.7]);
        let c = Scored::from_probs(&labels, &[0.5, 0.4, 0.1]);
        let ms = [
            Mention {
                text: "Putin",
                label: "PER",
                start: 0,
                stance: Some(&a),
            },
            Mention {
                text: "Putin",
                label: "PER",
                start: 9,
                stance: Some(&b),
            },
            Mention {
                text: "Putin",
                label: "PER",
                start: 19,
                stance: Some(&c),
            },
        ];
        let (actors, _) = group_actors(&ms);
        let s = actors[0].stance.as_ref().unwrap();
        assert_eq!(s.label, "negative");
        assert!((s.probs["negative"] - 1.3 / 3.0).abs() < 1e-6);
        assert_eq!(actors[0].stance_counts["negative"], 2);
        assert_eq!(actors[0].stance_counts["positive"], 1);
    }
}
