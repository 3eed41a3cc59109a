//! Page roles of sentences: `title`, `body` or `boilerplate` (page furniture of scraped news:
//! navigation, share/follow/comment prompts, cookie and subscription notices, bylines, photo
//! credits, timestamps). Plain-text rules, per article, deterministic:
//!
//! 1. Text is read in lines (the segmenter's lines: soft wraps joined).
//! 2. A sentence is boilerplate when it is (alone on its line), starts with, or (short) contains
//!    a furniture phrase (`furniture.txt`; case, bullets and trailing counts ignored), or its
//!    line is a byline ("By Jane Smith, Political Correspondent"), a date, time or reading-time
//!    stamp ("Published 18 June 2024, 10:32 GMT") or a menu (short items between `|`, `•`, `·`, `»`,
//!    `›`, ` / `, ` > `), or a short line that at least three articles of the same job share
//!    ([`Repeated`]; jobs are cut by the reader, so this stays deterministic and `--resume`-safe).
//! 3. A line is **prose** when one of its other sentences has at least six words and ends in
//!    `.` or `…` (closing quotes and brackets allowed after it; `?` and `!` count in lines of
//!    several sentences or 20 words). The lines before the first prose line are the *top*, the
//!    lines after the last one the *bottom*.
//! 4. The **title** is the line equal to the record's `title` (within the top or the lines
//!    before the first prose line after it; every line above it is then boilerplate), else the
//!    longest remaining top line (at least two words, no final `.`; the first of equals).
//! 5. Other remaining lines of the top and the bottom with at most six words and no final
//!    punctuation are navigation: boilerplate. Short lines between prose lines (subheadings)
//!    stay body.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::sentences::{blocks, Span};

/// What a sentence is on the page (an output type: newsmill-schema).
pub use newsmill_schema::Role;

/// The furniture phrases and stamp words (`furniture.txt`, one list per section).
struct Phrases {
    whole: Vec<&'static str>,
    leading: Vec<&'static str>,
    anywhere: Vec<&'static str>,
    stamp: Vec<&'static str>,
    stamp_other: Vec<&'static str>,
}

fn phrases() -> &'static Phrases {
    static P: OnceLock<Phrases> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = Phrases {
            whole: Vec::new(),
            leading: Vec::new(),
            anywhere: Vec::new(),
            stamp: Vec::new(),
            stamp_other: Vec::new(),
        };
        let mut section = "";
        for line in include_str!("furniture.txt").lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                continue;
            }
            match section {
                "[whole]" => p.whole.push(line),
                "[leading]" => p.leading.push(line),
                "[anywhere]" => p.anywhere.push(line),
                "[stamp]" => p.stamp.push(line),
                _ => p.stamp_other.push(line),
            }
        }
        p
    })
}

/// Sentences longer than this are not furniture by a leading phrase.
const LEADING_WORDS: usize = 20;
/// Sentences longer than this are not furniture by a phrase anywhere in them.
const ANYWHERE_WORDS: usize = 25;

const MENU_SEPARATORS: &[char] = &['|', '•', '·', '»', '›', '►', '▸'];
const TERMINALS: &[char] = &['.', '!', '?', '…'];
const CLOSERS: &[char] = &['"', '\'', '”', '’', ')', ']', '»', '*'];

/// Short lines that several articles of one batch of records share: furniture of the site
/// they were scraped from ("Sign up to the Morning Brief", a section menu).
#[derive(Debug, Clone, Default)]
pub struct Repeated {
    lines: HashSet<String>,
}

impl Repeated {
    /// Lines of at most this many words are counted.
    pub const MAX_WORDS: usize = 12;
    /// A line is furniture when this many articles or more have it.
    pub const MIN_ARTICLES: usize = 3;

    /// Counts, over `texts`, the articles each short line (normalised) appears in.
    pub fn count<'a>(texts: impl IntoIterator<Item = &'a str>) -> Repeated {
        let mut n: HashMap<String, usize> = HashMap::new();
        for text in texts {
            let mut own = HashSet::new();
            for line in blocks(text) {
                let line = line.slice(text);
                let words = line.split_whitespace().count();
                if (1..=Self::MAX_WORDS).contains(&words) {
                    own.insert(normalise(line));
                }
            }
            for l in own {
                *n.entry(l).or_default() += 1;
            }
        }
        Repeated {
            lines: n
                .into_iter()
                .filter(|(l, k)| *k >= Self::MIN_ARTICLES && !l.is_empty())
                .map(|(l, _)| l)
                .collect(),
        }
    }

    fn has(&self, line: &str) -> bool {
        !self.lines.is_empty()
            && line.split_whitespace().count() <= Self::MAX_WORDS
            && self.lines.contains(&normalise(line))
    }
}

/// The role of every sentence of `text` (`sentences` as [`crate::segment`] gives them); `title`
/// is the record's title, if it has one; `repeated`: the short lines other articles of its
/// batch share.
pub fn page_roles(
    text: &str,
    sentences: &[Span],
    title: Option<&str>,
    repeated: &Repeated,
) -> Vec<Role> {
    let mut roles = vec![Role::Body; sentences.len()];
    if sentences.is_empty() {
        return roles;
    }
    // each line's sentences
    let lines = blocks(text);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); lines.len()];
    let mut l = 0;
    for (i, s) in sentences.iter().enumerate() {
        while l + 1 < lines.len() && lines[l].end <= s.start {
            l += 1;
        }
        members[l].push(i);
    }
    for m in &members {
        for &i in m {
            if furniture_sentence(sentences[i].slice(text), m.len() == 1) {
                roles[i] = Role::Boilerplate;
            }
        }
    }
    for (l, m) in members.iter().enumerate() {
        let line = lines[l].slice(text).trim();
        if !m.is_empty() && (furniture_line(line) || repeated.has(line)) {
            for &i in m {
                roles[i] = Role::Boilerplate;
            }
        }
    }
    // prose lines: the story's extent
    let prose: Vec<bool> = members
        .iter()
        .map(|m| {
            let own: Vec<&str> = m
                .iter()
                .filter(|&&i| roles[i] == Role::Body)
                .map(|&i| sentences[i].slice(text))
                .collect();
            own.iter().any(|s| is_prose(s, own.len()))
        })
        .collect();
    let first_prose = prose.iter().position(|&p| p);
    let last_prose = prose.iter().rposition(|&p| p);
    let top_end = first_prose.unwrap_or(0);

    // the title: a line equal to the record's title (the lines above it are furniture), or
    // the longest remaining line of the top
    let candidate = |l: usize, roles: &[Role]| {
        !members[l].is_empty()
            && members[l].iter().all(|&i| roles[i] == Role::Body)
            && !ends_with_period(lines[l].slice(text))
            && lines[l].slice(text).split_whitespace().count() >= 2
    };
    let wanted = title.map(normalise).filter(|t| !t.is_empty());
    let named = wanted.and_then(|t| {
        (0..lines.len())
            .take_while(|&l| l <= top_end || !prose[l])
            .find(|&l| !members[l].is_empty() && normalise(lines[l].slice(text)) == t)
    });
    let title_line = match named {
        Some(l) => {
            for &i in members[..l].iter().flatten() {
                roles[i] = Role::Boilerplate;
            }
            Some(l)
        }
        None => (0..top_end)
            .filter(|&l| candidate(l, &roles))
            .max_by_key(|&l| {
                (
                    lines[l].slice(text).split_whitespace().count(),
                    std::cmp::Reverse(l),
                )
            }),
    };
    if let Some(l) = title_line {
        for &i in &members[l] {
            roles[i] = Role::Title;
        }
    }

    // navigation: short unpunctuated lines outside the story
    let top_end = top_end.max(title_line.map_or(0, |l| l + 1));
    let outside = |l: usize| l < top_end || last_prose.is_some_and(|e| l > e);
    for (l, m) in members.iter().enumerate() {
        if Some(l) == title_line || !outside(l) {
            continue;
        }
        let line = lines[l].slice(text).trim();
        if line.split_whitespace().count() <= 6 && !ends_with_terminal(line) {
            for &i in m {
                roles[i] = Role::Boilerplate;
            }
        }
    }
    roles
}

/// Lower case, `’` as `'`, white space collapsed, bullets and edge punctuation gone, a
/// trailing count "(3)" gone.
fn normalise(s: &str) -> String {
    let lower = s.to_lowercase().replace('’', "'");
    let joined = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = joined
        .trim_start_matches(|c: char| !(c.is_alphanumeric() || c == '(' || c == '©'))
        .trim_end_matches(|c: char| !(c.is_alphanumeric() || c == ')'));
    let t = match t.rsplit_once(" (") {
        Some((head, count))
            if count
                .strip_suffix(')')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) =>
        {
            head
        }
        _ => t,
    };
    t.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == ')'))
        .to_string()
}

/// Whether `phrase` starts `s` as whole words.
fn starts_with_words(s: &str, phrase: &str) -> bool {
    s.strip_prefix(phrase).is_some_and(|rest| {
        rest.is_empty()
            || phrase.ends_with(|c: char| !c.is_alphanumeric())
            || rest.starts_with(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
    })
}

/// Whether sentence `s` is furniture by a phrase; `alone`: it is the only sentence of its
/// line (a `[whole]` phrase counts only then: "I agree." inside a paragraph is a quote).
fn furniture_sentence(s: &str, alone: bool) -> bool {
    let n = normalise(s);
    let words = n.split_whitespace().count();
    let p = phrases();
    (alone && p.whole.contains(&n.as_str()))
        || (words <= LEADING_WORDS && p.leading.iter().any(|l| starts_with_words(&n, l)))
        || (words <= ANYWHERE_WORDS && p.anywhere.iter().any(|a| n.contains(a)))
}

fn furniture_line(line: &str) -> bool {
    is_byline(line) || is_stamp(line) || is_menu(line)
}

/// "By Jane Smith", "By JANE SMITH and Tom Jones, Reuters": "by" and at most nine more words,
/// most of them capitalised, no final period.
fn is_byline(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 2 || words.len() > 10 || !words[0].eq_ignore_ascii_case("by") {
        return false;
    }
    if ends_with_period(line) {
        return false;
    }
    let rest = &words[1..];
    let caps = rest
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    rest[0].chars().next().is_some_and(char::is_uppercase) && caps * 3 >= rest.len() * 2
}

/// "Published 18 June 2024, 10:32 GMT", "Updated 3 hours ago", "Mon 17 Jun 2024 18.05 BST".
fn is_stamp(line: &str) -> bool {
    let lower = line.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '·' | '-' | '–' | '/'))
        .map(|t| t.trim_matches(|c: char| matches!(c, '(' | ')' | ':' | '.' | '•')))
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() || tokens.len() > 14 {
        return false;
    }
    let numeric = |t: &str| {
        t.chars().any(|c| c.is_ascii_digit())
            && t.chars().all(|c| {
                c.is_ascii_digit()
                    || matches!(
                        c,
                        ':' | '.' | 's' | 't' | 'n' | 'd' | 'r' | 'h' | 'a' | 'm' | 'p'
                    )
            })
    };
    let p = phrases();
    tokens
        .iter()
        .all(|t| numeric(t) || p.stamp.contains(t) || p.stamp_other.contains(t))
        && tokens.iter().any(|t| p.stamp.contains(t))
}

/// "Business | Tech | Sport", "Home » World » Asia": at least two items, each of at most four
/// words, no final punctuation.
fn is_menu(line: &str) -> bool {
    let line = line.replace(" / ", " | ").replace(" > ", " | ");
    if !line.contains(MENU_SEPARATORS) || ends_with_terminal(&line) {
        return false;
    }
    let items: Vec<&str> = line
        .split(MENU_SEPARATORS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    items.len() >= 2 && items.iter().all(|i| i.split_whitespace().count() <= 4)
}

/// A sentence of the story: at least six words ending in `.` or `…`; a question or
/// exclamation only in a line of several sentences or of 20 words or more (a headline may end
/// in `?`).
fn is_prose(sentence: &str, sentences_in_line: usize) -> bool {
    let words = sentence.split_whitespace().count();
    let end = sentence.trim_end().trim_end_matches(CLOSERS);
    words >= 6
        && (end.ends_with(['.', '…'])
            || (end.ends_with(['?', '!']) && (sentences_in_line > 1 || words >= 20)))
}

fn ends_with_terminal(s: &str) -> bool {
    s.trim_end().trim_end_matches(CLOSERS).ends_with(TERMINALS)
}

fn ends_with_period(s: &str) -> bool {
    let t = s.trim_end().trim_end_matches(CLOSERS);
    t.ends_with('.') && !t.ends_with("...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment;

    /// (role, sentence) of every sentence of `text`.
    fn roles(text: &str, title: Option<&str>) -> Vec<(Role, String)> {
        let s = segment(text);
        page_roles(text, &s, title, &Repeated::default())
            .into_iter()
            .zip(s.iter().map(|s| s.slice(text).to_string()))
            .collect()
    }

    fn with(text: &str, role: Role) -> Vec<String> {
        roles(text, None)
            .into_iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, s)| s)
            .collect()
    }

    const PAGE: &str = "Home | World | Business\nSkip to content\n\n\
        Mayor Opens New Bridge Over the River Lune\n\n\
        By Alice Moreton, Transport Reporter\nPublished 3 March 2025, 09:15 GMT\n\n\
        The new bridge opened on Monday after two years of work. Share this article.\n\n\
        Traffic Changes\n\n\
        Drivers will use the old road until the summer, the council said.\n\
        Photo: Lancashire County Council\n\n\
        Advertisement\n\n\
        Residents said they were pleased with the result.\n\n\
        Sign up for our morning newsletter\nComments (12)\nPrivacy\n";

    #[test]
    fn furniture_title_and_story() {
        assert_eq!(
            with(PAGE, Role::Title),
            ["Mayor Opens New Bridge Over the River Lune"]
        );
        assert_eq!(
            with(PAGE, Role::Boilerplate),
            [
                "Home | World | Business",
                "Skip to content",
                "By Alice Moreton, Transport Reporter",
                "Published 3 March 2025, 09:15 GMT",
                "Share this article.",
                "Photo: Lancashire County Council",
                "Advertisement",
                "Sign up for our morning newsletter",
                "Comments (12)",
                "Privacy",
            ]
        );
        // a subheading between prose lines stays body
        assert!(with(PAGE, Role::Body).contains(&"Traffic Changes".to_string()));
    }

    #[test]
    fn plain_prose_is_body() {
        let t = "The minister said on Monday that the plan would go ahead. Critics disagreed.\n\n\
                 By the end of the week, prices had fallen by a third.";
        assert!(roles(t, None).iter().all(|(r, _)| *r == Role::Body));
        // phrases inside longer sentences are not furniture
        let t = "Home prices rose again in March, the bank said. \
                 Related party deals were disclosed in the annual report.";
        assert!(roles(t, None).iter().all(|(r, _)| *r == Role::Body));
    }

    #[test]
    fn record_title_wins() {
        let t = "Breaking Story Of The Day Here\nCouncil Backs Budget\n\nThe council backed the budget on Tuesday night.";
        let r = roles(t, Some("Council backs budget"));
        assert_eq!(r[1].0, Role::Title);
        // the other short top line is navigation
        assert_eq!(r[0].0, Role::Boilerplate);
        let r = roles(t, None);
        assert_eq!(r[0].0, Role::Title);
    }

    #[test]
    fn question_headline_and_record_title() {
        let t = "Is the Town Hall Clock Finally Fixed After Ten Long Years?\n\n\
                 The clock struck noon on Friday for the first time since 2015.";
        assert_eq!(roles(t, None)[0].0, Role::Title);
        // furniture that no rule knows, above the record's title
        let t = "Our brand new look is here for readers everywhere\nSpring Fair Returns\n\n\
                 The fair opened on Saturday with forty stalls.";
        let r = roles(t, Some("Spring fair returns"));
        assert_eq!(
            r.iter().map(|x| x.0).collect::<Vec<_>>(),
            [Role::Boilerplate, Role::Title, Role::Body]
        );
    }

    #[test]
    fn menus_and_stamps() {
        let t = "Home / Business / Markets\n4 min read\n\nMarkets rose on Monday as investors cheered the news.";
        assert_eq!(
            with(t, Role::Boilerplate),
            ["Home / Business / Markets", "4 min read"]
        );
        // a slash inside a line of prose is not a menu
        assert!(!is_menu("Profit/loss"));
    }

    #[test]
    fn no_title_without_a_top() {
        let t = "The council backed the budget on Tuesday night.\n\nLater it met again.";
        assert!(roles(t, None).iter().all(|(r, _)| *r != Role::Title));
        assert!(page_roles("", &[], None, &Repeated::default()).is_empty());
    }

    #[test]
    fn lines_shared_by_articles() {
        let page = |story: &str| {
            format!("Town Crier Daily Edition\n\nA Headline About {story}\n\nThe {story} story went on for a while, people said.\n\nBrought To You By The Town Crier")
        };
        let texts: Vec<String> = ["mill", "fair", "bridge"].iter().map(|s| page(s)).collect();
        let rep = Repeated::count(texts.iter().map(String::as_str));
        let t = &texts[0];
        let s = segment(t);
        let roles = page_roles(t, &s, None, &rep);
        assert_eq!(
            roles,
            [
                Role::Boilerplate,
                Role::Title,
                Role::Body,
                Role::Boilerplate
            ]
        );
        // two articles are not enough
        let rep = Repeated::count(texts[..2].iter().map(String::as_str));
        assert!(!rep.has("Brought To You By The Town Crier"));
    }

    #[test]
    fn normalising() {
        assert_eq!(normalise("  • Comments (12) "), "comments");
        assert_eq!(normalise("Related: Mayor’s plan"), "related: mayor's plan");
        assert_eq!(normalise("CONTINUE   READING »"), "continue reading");
        assert!(starts_with_words("share this article", "share this"));
        assert!(!starts_with_words("shareholders met", "share"));
        assert!(is_stamp("Updated 3 hours ago"));
        assert!(is_stamp("Mon 17 Jun 2024 18.05 BST"));
        assert!(!is_stamp("On the day"));
        assert!(is_byline("By JANE SMITH and Tom Jones"));
        assert!(!is_byline("By the end of the week, prices had fallen."));
    }
}
