//! Page roles of sentences: `title`, `body` or `boilerplate` (page furniture of scraped news:
//! navigation, share/follow/comment prompts, cookie and subscription notices, bylines, photo
//! credits, timestamps). Plain-text rules, per article, deterministic:
//!
//! 1. Text is read in lines (the segmenter's lines: soft wraps joined). A line is **prose**
//!    when one of its sentences has at least six words and ends in `.`, `!`, `?` or `…`
//!    (closing quotes and brackets allowed after it). The lines before the first prose line
//!    are the *top*, the lines after the last one the *bottom*.
//! 2. A sentence is boilerplate when it is (or starts with) a furniture phrase
//!    ([`WHOLE`], [`LEADING`], [`ANYWHERE`]; case, bullets and trailing counts ignored), or
//!    its line is a byline ("By Jane Smith, Political Correspondent"), a date or time stamp
//!    ("Published 18 June 2024, 10:32 GMT"), a photo credit or a menu (short items between
//!    `|`, `•`, `·`, `»`, `›`).
//! 3. The **title** is the longest remaining top line (at least two words, no final `.`; the
//!    first of equals); a line equal to the record's `title` wins. Its sentences are `title`.
//! 4. Other remaining lines of the top and the bottom with at most six words and no final
//!    punctuation are navigation: boilerplate. Short lines between prose lines (subheadings)
//!    stay body.

use serde::{Deserialize, Serialize};

use crate::sentences::{blocks, Span};

/// What a sentence is on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Title,
    #[default]
    Body,
    Boilerplate,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Title => "title",
            Role::Body => "body",
            Role::Boilerplate => "boilerplate",
        }
    }
}

/// Furniture that is the whole line (after normalising; a trailing count like "(3)" ignored).
const WHOLE: &[&str] = &[
    "home",
    "menu",
    "search",
    "print",
    "email",
    "e-mail",
    "share",
    "tweet",
    "comments",
    "comment",
    "advertisement",
    "advertising",
    "sponsored",
    "sponsored content",
    "promoted",
    "trending",
    "trending now",
    "top stories",
    "latest",
    "latest news",
    "latest stories",
    "breaking news",
    "live",
    "live updates",
    "related",
    "recommended",
    "most read",
    "most popular",
    "popular",
    "more",
    "more stories",
    "next",
    "previous",
    "prev",
    "close",
    "open",
    "sections",
    "rss",
    "feedback",
    "donate",
    "register",
    "login",
    "log in",
    "sign in",
    "sign up",
    "log out",
    "subscribe",
    "subscribe now",
    "facebook",
    "twitter",
    "x",
    "linkedin",
    "reddit",
    "pinterest",
    "instagram",
    "whatsapp",
    "telegram",
    "youtube",
    "tiktok",
    "flipboard",
    "copy link",
    "loading",
    "loading...",
    "video",
    "watch",
    "listen",
    "photos",
    "gallery",
    "opinion",
    "analysis",
    "news",
    "world",
    "business",
    "politics",
    "sport",
    "sports",
    "tech",
    "technology",
    "science",
    "health",
    "entertainment",
    "culture",
    "lifestyle",
    "travel",
    "weather",
    "contact",
    "contact us",
    "about us",
    "newsletters",
    "newsletter",
    "podcasts",
    "topics",
    "tags",
    "share this",
    "share this article",
    "share this story",
    "share article",
    "continue reading",
    "read more",
    "read next",
    "see more",
    "show more",
    "view more",
    "load more",
    "back to top",
    "skip to content",
    "skip to main content",
    "toggle navigation",
];

/// Furniture phrases a sentence starts with (whole words; at most [`LEADING_WORDS`] words).
const LEADING: &[&str] = &[
    "connect with us",
    "follow us",
    "follow me",
    "like us on",
    "find us on",
    "join us on",
    "share this",
    "share on",
    "share via",
    "share:",
    "click to",
    "click here",
    "tap here",
    "leave a reply",
    "leave a comment",
    "post a comment",
    "add a comment",
    "view comments",
    "show comments",
    "join the conversation",
    "join the discussion",
    "comments are closed",
    "your email address",
    "required fields",
    "continue reading",
    "read more",
    "read the full",
    "read next",
    "read also",
    "also read",
    "see also",
    "related:",
    "related articles",
    "related stories",
    "related news",
    "related content",
    "related coverage",
    "related topics",
    "more on this",
    "more from",
    "you may also like",
    "you might also like",
    "recommended for you",
    "most read",
    "most popular",
    "don't miss",
    "subscribe to",
    "subscribe for",
    "subscribe now",
    "sign up for",
    "sign up to",
    "sign up now",
    "sign in to",
    "log in to",
    "already a subscriber",
    "already have an account",
    "create an account",
    "create a free account",
    "get the app",
    "download the app",
    "download our app",
    "we use cookies",
    "this site uses cookies",
    "this website uses cookies",
    "accept all cookies",
    "accept cookies",
    "manage cookies",
    "cookie settings",
    "cookie policy",
    "privacy policy",
    "terms of use",
    "terms of service",
    "terms and conditions",
    "skip to",
    "jump to",
    "back to top",
    "scroll to top",
    "please enable javascript",
    "listen to this article",
    "watch:",
    "watch the video",
    "video:",
    "photo:",
    "photos:",
    "image:",
    "picture:",
    "credit:",
    "photo credit",
    "image credit",
    "image source",
    "file photo",
    "(photo",
    "(image",
    "posted in",
    "filed under",
    "tags:",
    "tagged:",
    "topics:",
    "categories:",
    "reporting by",
    "editing by",
    "additional reporting",
    "written by",
    "story by",
    "report by",
    "this article was originally",
    "this story was originally",
    "originally published",
    "support our journalism",
    "support independent journalism",
    "become a member",
    "to continue reading",
    "report an error",
    "send us a tip",
    "got a story",
    "advertise with us",
    "next article",
    "previous article",
    "next story",
    "previous story",
    "copyright ©",
    "copyright (c)",
    "©",
];

/// Sentences longer than this are not furniture by a leading phrase.
const LEADING_WORDS: usize = 20;

/// Furniture phrases anywhere in a sentence of at most [`ANYWHERE_WORDS`] words.
const ANYWHERE: &[&str] = &[
    "all rights reserved",
    "email address will not be published",
    "required fields are marked",
    "uses cookies to",
    "use cookies to",
    "enable javascript",
    "getty images",
    "ap photo",
    "afp photo",
    "afp via getty",
    "©",
    "sign up for our newsletter",
    "subscribe to our newsletter",
];

const ANYWHERE_WORDS: usize = 25;

/// Words a date or time stamp is made of (besides numbers and times).
const STAMP_WORDS: &[&str] = &[
    "published",
    "updated",
    "posted",
    "last",
    "first",
    "on",
    "at",
    "ago",
    "just",
    "now",
    "today",
    "yesterday",
    "hour",
    "hours",
    "hr",
    "hrs",
    "minute",
    "minutes",
    "min",
    "mins",
    "day",
    "days",
    "week",
    "weeks",
    "read",
    "am",
    "pm",
    "a.m.",
    "p.m.",
    "gmt",
    "bst",
    "utc",
    "cet",
    "cest",
    "et",
    "est",
    "edt",
    "pt",
    "pst",
    "pdt",
    "ist",
    "jst",
    "aest",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "of",
    "the",
    "and",
    "by",
];

/// Words that make a stamp a stamp (a line of only "on the" is not one).
const STAMP_CORE: &[&str] = &[
    "published",
    "updated",
    "posted",
    "ago",
    "gmt",
    "bst",
    "utc",
    "et",
    "edt",
    "est",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

const MENU_SEPARATORS: &[char] = &['|', '•', '·', '»', '›', '►', '▸'];
const TERMINALS: &[char] = &['.', '!', '?', '…'];
const CLOSERS: &[char] = &['"', '\'', '”', '’', ')', ']', '»', '*'];

/// The role of every sentence of `text` (`sentences` as [`crate::segment`] gives them); `title`
/// is the record's title, if it has one.
pub fn page_roles(text: &str, sentences: &[Span], title: Option<&str>) -> Vec<Role> {
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
    let prose: Vec<bool> = members
        .iter()
        .map(|m| m.iter().any(|&i| is_prose(sentences[i].slice(text))))
        .collect();
    let first_prose = prose.iter().position(|&p| p);
    let last_prose = prose.iter().rposition(|&p| p);

    for (i, s) in sentences.iter().enumerate() {
        if furniture_sentence(s.slice(text)) {
            roles[i] = Role::Boilerplate;
        }
    }
    for (l, m) in members.iter().enumerate() {
        if m.is_empty() {
            continue;
        }
        let line = lines[l].slice(text).trim();
        if furniture_line(line) {
            for &i in m {
                roles[i] = Role::Boilerplate;
            }
        }
    }

    // the title: the longest remaining line of the top (or the record's title)
    let top_end = first_prose.unwrap_or(0);
    let candidate = |l: usize| {
        !members[l].is_empty()
            && members[l].iter().all(|&i| roles[i] == Role::Body)
            && !ends_with_period(lines[l].slice(text))
            && lines[l].slice(text).split_whitespace().count() >= 2
    };
    let wanted = title.map(normalise).filter(|t| !t.is_empty());
    let title_line = (0..top_end)
        .filter(|&l| candidate(l))
        .find(|&l| wanted.as_deref() == Some(normalise(lines[l].slice(text)).as_str()))
        .or_else(|| {
            (0..top_end).filter(|&l| candidate(l)).max_by_key(|&l| {
                (
                    lines[l].slice(text).split_whitespace().count(),
                    std::cmp::Reverse(l),
                )
            })
        });
    if let Some(l) = title_line {
        for &i in &members[l] {
            roles[i] = Role::Title;
        }
    }

    // navigation: short unpunctuated lines outside the story
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

fn furniture_sentence(s: &str) -> bool {
    let n = normalise(s);
    let words = n.split_whitespace().count();
    WHOLE.contains(&n.as_str())
        || (words <= LEADING_WORDS && LEADING.iter().any(|p| starts_with_words(&n, p)))
        || (words <= ANYWHERE_WORDS && ANYWHERE.iter().any(|p| n.contains(p)))
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
    tokens.iter().all(|t| numeric(t) || STAMP_WORDS.contains(t))
        && tokens.iter().any(|t| STAMP_CORE.contains(t))
}

/// "Business | Tech | Sport", "Home » World » Asia": at least two items, each of at most four
/// words, no final punctuation.
fn is_menu(line: &str) -> bool {
    if !line.contains(MENU_SEPARATORS) || ends_with_terminal(line) {
        return false;
    }
    let items: Vec<&str> = line
        .split(MENU_SEPARATORS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    items.len() >= 2 && items.iter().all(|i| i.split_whitespace().count() <= 4)
}

fn is_prose(sentence: &str) -> bool {
    sentence.split_whitespace().count() >= 6 && ends_with_terminal(sentence)
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
        page_roles(text, &s, title)
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
    fn no_title_without_a_top() {
        let t = "The council backed the budget on Tuesday night.\n\nLater it met again.";
        assert!(roles(t, None).iter().all(|(r, _)| *r != Role::Title));
        assert!(page_roles("", &[], None).is_empty());
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
