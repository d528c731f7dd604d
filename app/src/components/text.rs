//! Text that people typed, inside elements whose content Leptos writes
//! unescaped on the server.
//!
//! Leptos escapes text nodes, but not the content of `<textarea>` (tachys
//! marks it as an element whose children are not escaped, like `<script>`)
//! nor the page title (leptos_meta writes it between `<title>` tags as is).
//! Both are RCDATA in HTML: entities are decoded and `</textarea>` or
//! `</title>` ends them, so a name such as `</title><script>…` would become
//! markup. On the server such text is escaped here; in the browser it is set
//! through the DOM, where it is always text, and is left alone.

/// `text` as it must be written into `<textarea>` or `<title>` content.
pub fn rcdata(text: String) -> String {
    if cfg!(feature = "ssr") {
        escape(&text)
    } else {
        text
    }
}

/// Escapes the characters that can end or change RCDATA content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            escape("</title><script>alert('x')</script> & \"q\""),
            "&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("Zoë Adeyemi"), "Zoë Adeyemi");
    }
}
