//! Shared by the report's and the bench page's tests.

/// Text of an HTML attribute or element as the page wrote it, with the template engine's
/// escapes undone (`&` last, so an escaped escape stays one).
pub fn unescape(s: &str) -> String {
    s.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}
