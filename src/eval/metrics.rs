//! Scores: entity-level P/R/F1 (conlleval semantics), accuracy and macro-F1, calibration error.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Prf {
    pub fn new(correct: usize, predicted: usize, gold: usize) -> Prf {
        let precision = if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        };
        let recall = if gold == 0 {
            0.0
        } else {
            correct as f64 / gold as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
            gold,
            predicted,
            correct,
        }
    }
}

pub type Chunk = (usize, usize, usize, String);

/// Entity-level exact match per type and micro-averaged, over `(sentence, start, end, type)`.
pub fn entity_scores(gold: &[Chunk], pred: &[Chunk]) -> (Prf, BTreeMap<String, Prf>) {
    use std::collections::HashSet;
    let g: HashSet<&Chunk> = gold.iter().collect();
    let p: HashSet<&Chunk> = pred.iter().collect();
    let types: std::collections::BTreeSet<&String> =
        gold.iter().chain(pred).map(|c| &c.3).collect();
    let mut per = BTreeMap::new();
    for t in types {
        let gt = g.iter().filter(|c| &c.3 == t).count();
        let pt = p.iter().filter(|c| &c.3 == t).count();
        let ct = p.iter().filter(|c| &c.3 == t && g.contains(*c)).count();
        per.insert(t.clone(), Prf::new(ct, pt, gt));
    }
    let correct = p.iter().filter(|c| g.contains(*c)).count();
    (Prf::new(correct, p.len(), g.len()), per)
}

/// Accuracy and macro-F1 over `n` classes.
pub fn class_scores(gold: &[usize], pred: &[usize], n: usize) -> (f64, f64) {
    let total = gold.len().max(1) as f64;
    let acc = gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / total;
    let f1s = class_f1(gold, pred, n);
    (acc, f1s.iter().sum::<f64>() / n.max(1) as f64)
}

/// F1 of each class `0..n`.
pub fn class_f1(gold: &[usize], pred: &[usize], n: usize) -> Vec<f64> {
    (0..n)
        .map(|c| {
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            for (&g, &p) in gold.iter().zip(pred) {
                match (g == c, p == c) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
            let denom = 2 * tp + fp + fn_;
            if denom == 0 {
                0.0
            } else {
                2.0 * tp as f64 / denom as f64
            }
        })
        .collect()
}

/// Expected calibration error: the predictions in 15 equal-width bins of their top
/// probability; the mean over bins of |accuracy − mean confidence|, weighted by the bin's share.
pub fn ece(confidence: &[f64], correct: &[bool]) -> f64 {
    const BINS: usize = 15;
    let mut sum = [(0usize, 0f64, 0usize); BINS];
    for (&c, &ok) in confidence.iter().zip(correct) {
        let b = ((c * BINS as f64).ceil() as usize).clamp(1, BINS) - 1;
        sum[b].0 += 1;
        sum[b].1 += c;
        sum[b].2 += usize::from(ok);
    }
    let n = confidence.len().max(1) as f64;
    sum.iter()
        .filter(|b| b.0 > 0)
        .map(|&(k, conf, ok)| (ok as f64 / k as f64 - conf / k as f64).abs() * k as f64 / n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: usize, a: usize, b: usize, t: &str) -> Chunk {
        (s, a, b, t.to_string())
    }

    #[test]
    fn entity_prf_by_hand() {
        // gold: PER(0,0-2) LOC(0,3-4) ORG(1,0-1); pred: PER exact, LOC wrong boundary, ORG exact, extra MISC
        let gold = vec![c(0, 0, 2, "PER"), c(0, 3, 4, "LOC"), c(1, 0, 1, "ORG")];
        let pred = vec![
            c(0, 0, 2, "PER"),
            c(0, 3, 5, "LOC"),
            c(1, 0, 1, "ORG"),
            c(1, 2, 3, "MISC"),
        ];
        let (micro, per) = entity_scores(&gold, &pred);
        assert_eq!((micro.correct, micro.predicted, micro.gold), (2, 4, 3));
        assert!((micro.precision - 0.5).abs() < 1e-12);
        assert!((micro.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((micro.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(per["LOC"].f1, 0.0);
        assert_eq!(per["PER"].f1, 1.0);
        assert_eq!((per["MISC"].precision, per["MISC"].recall), (0.0, 0.0));
    }

    #[test]
    fn class_scores_by_hand() {
        // gold: 0 0 1 2 ; pred: 0 1 1 2  -> acc 0.75; F1: c0 = 2/3, c1 = 2/3, c2 = 1
        let (acc, f1m) = class_scores(&[0, 0, 1, 2], &[0, 1, 1, 2], 3);
        assert!((acc - 0.75).abs() < 1e-12);
        assert!((f1m - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        let (acc, f1m) = class_scores(&[], &[], 2);
        assert_eq!((acc, f1m), (0.0, 0.0));
    }

    #[test]
    fn ece_by_hand() {
        // bin of 0.9: 2 predictions, 1 right -> |0.5 - 0.9| * 2/4; bin of 0.6: 2, both right ->
        // |1 - 0.6| * 2/4
        let e = ece(&[0.9, 0.9, 0.6, 0.6], &[true, false, true, true]);
        assert!((e - (0.4 * 0.5 + 0.4 * 0.5)).abs() < 1e-12);
        assert_eq!(ece(&[1.0, 1.0], &[true, true]), 0.0);
    }
}
