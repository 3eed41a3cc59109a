//! Wordpiece encoding with the Hugging Face `tokenizers` crate, windowing of long word
//! sequences, and batch padding.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};

use crate::error::TextError;

/// Wordpieces of a sequence of words: ids without special tokens, and for each piece the index
/// of the word it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub word: Vec<u32>,
}

/// A tokenizer loaded from a `tokenizer.json`, with the special tokens newsmill needs.
#[derive(Clone)]
pub struct WordpieceEncoder {
    plain: Tokenizer,
    truncating: Tokenizer,
    pub cls_id: u32,
    pub sep_id: u32,
    pub pad_id: u32,
    /// RoBERTa-style pairs put two separators between the segments.
    pub double_sep: bool,
}

/// The reason a `tokenizer.json` did not load. A file that is JSON but not a `tokenizers`
/// tokenizer gets that said first: the library's own message ("expected `,` or `}` at line 1
/// column 9") points at the JSON, which is fine.
fn explain_load(path: &Path, e: impl std::fmt::Display) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return e.to_string();
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Err(_) => e.to_string(),
        Ok(serde_json::Value::Object(o)) if !o.contains_key("model") => {
            "not a tokenizers tokenizer.json: the JSON has no `model` field (save the tokenizer with `tokenizer.save(...)` / `save_pretrained`)".to_string()
        }
        Ok(serde_json::Value::Object(_)) => format!("not a tokenizers tokenizer.json: {e}"),
        Ok(_) => "not a tokenizers tokenizer.json: the JSON is not an object".to_string(),
    }
}

impl WordpieceEncoder {
    /// Loads `tokenizer.json`; `max_len` bounds pair and single-text encodings (the model's
    /// position count).
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self, TextError> {
        let load_err = |reason: String| TextError::TokenizerLoad {
            path: path.to_path_buf(),
            reason,
        };
        let mut plain = Tokenizer::from_file(path).map_err(|e| load_err(explain_load(path, e)))?;
        plain.with_padding(None);
        plain
            .with_truncation(None)
            .map_err(|e| load_err(e.to_string()))?;
        let mut truncating = plain.clone();
        truncating
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::OnlyFirst,
                ..Default::default()
            }))
            .map_err(|e| load_err(e.to_string()))?;
        let find = |names: &[&str]| names.iter().find_map(|n| plain.token_to_id(n));
        let missing = |token: &str| TextError::MissingSpecialToken {
            path: path.to_path_buf(),
            token: token.to_string(),
        };
        let cls_id = find(&["[CLS]", "<s>"]).ok_or_else(|| missing("[CLS] or <s>"))?;
        let sep_id = find(&["[SEP]", "</s>"]).ok_or_else(|| missing("[SEP] or </s>"))?;
        let pad_id = find(&["[PAD]", "<pad>"]).ok_or_else(|| missing("[PAD] or <pad>"))?;
        let double_sep = plain.token_to_id("<s>").is_some() && plain.token_to_id("[CLS]").is_none();
        Ok(WordpieceEncoder {
            plain,
            truncating,
            cls_id,
            sep_id,
            pad_id,
            double_sep,
        })
    }

    /// Number of token ids the tokenizer can produce: its largest id (added tokens included)
    /// plus one. A model's embedding table needs at least this many rows.
    pub fn vocab_len(&self) -> usize {
        self.plain
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&m| m as usize + 1)
    }

    /// Encodes pre-split words; special tokens are not added. A word the tokenizer drops
    /// entirely (say, only control characters) simply has no pieces.
    pub fn encode_words(&self, words: &[&str]) -> Result<Encoded, TextError> {
        if words.is_empty() {
            return Ok(Encoded::default());
        }
        let enc = self.plain.encode(words, false).map_err(TextError::Encode)?;
        let mut out = Encoded {
            ids: Vec::with_capacity(enc.get_ids().len()),
            word: Vec::with_capacity(enc.get_ids().len()),
        };
        for (id, w) in enc.get_ids().iter().zip(enc.get_word_ids()) {
            if let Some(w) = w {
                out.ids.push(*id);
                out.word.push(*w);
            }
        }
        Ok(out)
    }

    /// Encodes one text, or a text pair, with special tokens, truncating the first text to the
    /// tokenizer's bound. Returns (ids, type ids).
    pub fn encode_text(
        &self,
        first: &str,
        second: Option<&str>,
    ) -> Result<(Vec<u32>, Vec<u32>), TextError> {
        let enc = match second {
            Some(b) => self.truncating.encode((first, b), true),
            None => self.truncating.encode(first, true),
        }
        .map_err(TextError::Encode)?;
        Ok((enc.get_ids().to_vec(), enc.get_type_ids().to_vec()))
    }
}

/// How long word sequences are cut into model inputs.
#[derive(Debug, Clone, Copy)]
pub struct Windowing {
    /// Wordpieces per window including the two special tokens.
    pub max_len: usize,
    /// Wordpieces shared by consecutive windows.
    pub overlap: usize,
}

impl Windowing {
    /// 128 wordpieces, 32 shared by consecutive windows.
    pub const DEFAULT: Windowing = Windowing {
        max_len: 128,
        overlap: 32,
    };
}

impl Default for Windowing {
    fn default() -> Self {
        Windowing::DEFAULT
    }
}

/// One window over `[start, end)` of a piece sequence. Pieces in `[own_start, own_end)` take
/// their prediction from this window: each piece is owned by exactly one window, the one in
/// which it sits farthest from an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
    pub own_start: usize,
    pub own_end: usize,
}

impl Windowing {
    pub fn validate(&self) -> Result<(), TextError> {
        if self.max_len < 8 {
            return Err(TextError::WindowTooSmall(self.max_len));
        }
        Ok(())
    }

    /// Windows covering `n` pieces. `n == 0` gives no window.
    pub fn windows(&self, n: usize) -> Vec<Window> {
        let content = self.max_len.saturating_sub(2).max(1);
        if n == 0 {
            return Vec::new();
        }
        if n <= content {
            return vec![Window {
                start: 0,
                end: n,
                own_start: 0,
                own_end: n,
            }];
        }
        let overlap = self.overlap.min(content / 2);
        let step = (content - overlap).max(1);
        let mut starts = Vec::new();
        let mut s = 0;
        loop {
            if s + content >= n {
                starts.push(n - content);
                break;
            }
            starts.push(s);
            s += step;
        }
        let mut out: Vec<Window> = starts
            .iter()
            .map(|&s| Window {
                start: s,
                end: s + content,
                own_start: s,
                own_end: s + content,
            })
            .collect();
        for k in 1..out.len() {
            let boundary = (out[k].start + out[k - 1].end) / 2;
            out[k - 1].own_end = boundary;
            out[k].own_start = boundary;
        }
        out
    }
}

/// A padded batch, row-major `rows × cols`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub rows: usize,
    pub cols: usize,
}

impl Batch {
    /// Real (unpadded) tokens in the batch.
    pub fn real_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0).count()
    }
}

/// Pads `(ids, type ids)` sequences to the longest one.
pub fn pad_batch(seqs: &[&(Vec<u32>, Vec<u32>)], pad_id: u32) -> Batch {
    let cols = seqs.iter().map(|s| s.0.len()).max().unwrap_or(0);
    let rows = seqs.len();
    let mut b = Batch {
        ids: vec![pad_id as i64; rows * cols],
        type_ids: vec![0; rows * cols],
        mask: vec![0; rows * cols],
        rows,
        cols,
    };
    for (r, (ids, types)) in seqs.iter().enumerate() {
        for (c, &id) in ids.iter().enumerate() {
            b.ids[r * cols + c] = id as i64;
            b.type_ids[r * cols + c] = types.get(c).copied().unwrap_or(0) as i64;
            b.mask[r * cols + c] = 1;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sequence_one_window() {
        let w = Windowing {
            max_len: 10,
            overlap: 2,
        };
        assert_eq!(w.windows(0), vec![]);
        assert_eq!(w.windows(8).len(), 1);
    }

    #[test]
    fn windows_cover_and_own_each_piece_once() {
        for max_len in [8usize, 10, 16, 512] {
            for overlap in [0usize, 1, 3, 7, 100] {
                let w = Windowing { max_len, overlap };
                for n in 0..200 {
                    let ws = w.windows(n);
                    let mut owners = vec![0; n];
                    for win in &ws {
                        assert!(win.end - win.start <= max_len - 2);
                        assert!(win.start <= win.own_start && win.own_end <= win.end);
                        for o in owners.iter_mut().take(win.own_end).skip(win.own_start) {
                            *o += 1;
                        }
                    }
                    assert!(owners.iter().all(|&o| o == 1), "{max_len} {overlap} {n}");
                }
            }
        }
    }

    #[test]
    fn padding() {
        let b = pad_batch(&[&(vec![1, 2, 3], vec![0, 1, 0]), &(vec![4], vec![0])], 0);
        assert_eq!((b.rows, b.cols), (2, 3));
        assert_eq!(b.ids, vec![1, 2, 3, 4, 0, 0]);
        assert_eq!(b.type_ids, vec![0, 1, 0, 0, 0, 0]);
        assert_eq!(b.mask, vec![1, 1, 1, 1, 0, 0]);
        assert_eq!(b.real_tokens(), 4);
    }
}
