/// Maps byte offsets of a `&str` to character (Unicode scalar) offsets, the offsets Python's
/// `str` indexing uses. Built once per text; lookups are O(log n) on non-ASCII text, O(1) on ASCII.
#[derive(Debug, Clone)]
pub struct CharIndex {
    /// byte offset of every char boundary, plus `len` at the end; empty when the text is ASCII
    boundaries: Vec<usize>,
    len: usize,
}

impl CharIndex {
    pub fn new(text: &str) -> Self {
        let boundaries = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect()
        };
        CharIndex {
            boundaries,
            len: text.len(),
        }
    }

    /// Character offset of byte offset `byte`. A byte inside a character maps to that
    /// character's start; past the end maps to the character count.
    pub fn char_of(&self, byte: usize) -> usize {
        if self.boundaries.is_empty() {
            return byte.min(self.len);
        }
        match self.boundaries.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Number of characters in the text.
    pub fn char_len(&self) -> usize {
        if self.boundaries.is_empty() {
            self.len
        } else {
            self.boundaries.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_multibyte() {
        let t = "ab";
        let ci = CharIndex::new(t);
        assert_eq!((ci.char_of(0), ci.char_of(2), ci.char_len()), (0, 2, 2));
        let t = "é😀北x";
        let ci = CharIndex::new(t);
        assert_eq!(ci.char_len(), 4);
        assert_eq!(ci.char_of(0), 0);
        assert_eq!(ci.char_of(2), 1);
        assert_eq!(ci.char_of(6), 2);
        assert_eq!(ci.char_of(9), 3);
        assert_eq!(ci.char_of(10), 4);
        // inside a multi-byte character
        assert_eq!(ci.char_of(3), 1);
    }
}
