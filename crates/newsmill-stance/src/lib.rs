//! Sentence sentiment and target-dependent stance: sequence classifiers over sentences, and over
//! (sentence, target mention) pairs with the sentence clipped around the target.

mod actors;
mod targets;

pub use actors::{group_actors, mean_stance, Mention};
pub use newsmill_schema::Actor;
pub use targets::find_targets;

use std::path::Path;

use newsmill_model::{Classifier, Compute, Head, ModelError};
use newsmill_text::Span;

/// Errors of the stance/sentiment crate.
#[derive(Debug, thiserror::Error)]
pub enum StanceError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Text(#[from] newsmill_text::TextError),
}

/// A classification (an output type: newsmill-schema).
pub use newsmill_schema::Scored;

/// Characters of sentence context kept around a stance target (the model's 512 positions are
/// never reached by news sentences this long).
pub const STANCE_CONTEXT_CHARS: usize = 600;

/// A sequence classifier used either on sentences or on (sentence, target) pairs.
pub struct SequenceModel {
    pub clf: Classifier,
}

impl SequenceModel {
    pub fn load(dir: &Path, compute: Compute) -> Result<Self, StanceError> {
        Ok(SequenceModel {
            clf: Classifier::load_with(dir, Head::Sequence, compute)?,
        })
    }

    /// Model input for a whole sentence.
    pub fn sentence_input(&self, sentence: &str) -> Result<(Vec<u32>, Vec<u32>), StanceError> {
        Ok(self.clf.encoder.encode_text(sentence, None)?)
    }

    /// Model input for the stance of `sentence` toward the mention at byte span `target`
    /// (relative to `sentence`): the pair (sentence clipped around the target, mention).
    pub fn target_input(
        &self,
        sentence: &str,
        target: Span,
    ) -> Result<(Vec<u32>, Vec<u32>), StanceError> {
        let clipped = clip_around(sentence, target, STANCE_CONTEXT_CHARS);
        let mention = target.slice(sentence);
        Ok(self.clf.encoder.encode_text(clipped, Some(mention))?)
    }

    pub fn scored(&self, probs: &[f32]) -> Scored {
        Scored::from_probs(self.clf.labels(), probs)
    }
}

/// At most `max_chars` characters of `sentence` centred on `target` (byte span), cut at
/// character boundaries; the whole sentence when it is short enough. Matches `clip_around` in
/// models/recipe/train.py.
pub fn clip_around(sentence: &str, target: Span, max_chars: usize) -> &str {
    let n = sentence.chars().count();
    if n <= max_chars {
        return sentence;
    }
    let ci = newsmill_text::CharIndex::new(sentence);
    let (start, end) = (ci.char_of(target.start), ci.char_of(target.end));
    let room = max_chars.saturating_sub(end - start);
    let mut left = start.saturating_sub(room / 2);
    let right = n.min(end + (room - (start - left)));
    left = left.min(right.saturating_sub(max_chars));
    let byte = |c: usize| {
        sentence
            .char_indices()
            .nth(c)
            .map_or(sentence.len(), |(b, _)| b)
    };
    &sentence[byte(left)..byte(right)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_target() {
        let s = "a".repeat(50) + "Putin" + &"b".repeat(50);
        let t = Span::new(50, 55);
        let c = clip_around(&s, t, 20);
        assert_eq!(c.chars().count(), 20);
        assert!(c.contains("Putin"));
        assert_eq!(clip_around("short", Span::new(0, 5), 20), "short");
        // target at the very end, multibyte text
        let s = "é".repeat(40) + "Kim";
        let t = Span::new(80, 83);
        let c = clip_around(&s, t, 10);
        assert!(c.ends_with("Kim") && c.chars().count() == 10);
    }

    #[test]
    fn scored_picks_max() {
        let labels = vec!["NEGATIVE".to_string(), "POSITIVE".to_string()];
        let s = Scored::from_probs(&labels, &[0.2, 0.8]);
        assert_eq!(s.label, "positive");
        assert_eq!(s.probs["negative"], 0.2);
    }
}
