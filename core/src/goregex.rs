//! Go's regular expressions (`regexp.Compile`, RE2 with Perl flags) on the
//! `regex` crate: a pattern is read with Go's grammar and rewritten where
//! the two differ, so that gopherage's path patterns keep what they mean.
//!
//! The differences handled: `\d`, `\w`, `\s`, `\b` (and their negations)
//! are ASCII in Go, Unicode in `regex`; `\Q...\E` quotes; a `{` that does
//! not start a repetition is a literal; `&&`, `--`, `~~` and a nested `[`
//! inside a class are literals, not set operations; `\<` and `\>` are
//! escaped punctuation, not word assertions; and Go refuses stacked
//! repetitions (`a**`), repeat counts over 1000 and flags other than
//! `imsU`.

use std::fmt::Write as _;

use regex::Regex;

/// Go's limit on `{n,m}` counts.
const MAX_REPEAT: u32 = 1000;

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\x0C\r ";

/// Compiles `pattern` as Go's `regexp.Compile` reads it; the error says
/// what Go's parser would refuse, and where.
pub fn go_regex(pattern: &str) -> Result<Regex, String> {
    let rust = translate(pattern)?;
    Regex::new(&rust).map_err(|e| e.to_string())
}

/// `pattern`, in Go's syntax, written in the `regex` crate's.
pub fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        src: pattern.chars().collect(),
        pos: 0,
        out: String::with_capacity(pattern.len() * 2),
        last_repeat: None,
        can_repeat: false,
    };
    t.run()?;
    Ok(t.out)
}

struct Translator {
    src: Vec<char>,
    pos: usize,
    out: String,
    /// Where the repetition operator just read started, when the last
    /// token was one (Go refuses another right after it).
    last_repeat: Option<usize>,
    /// Whether the last token is something a repetition may follow.
    can_repeat: bool,
}

impl Translator {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.src.get(self.pos + ahead).copied()
    }

    fn err(&self, what: &str, from: usize) -> String {
        let end = (self.pos + 1).min(self.src.len()).max(from);
        let text: String = self.src[from..end].iter().collect();
        format!("{what}: `{text}` (at character {})", from + 1)
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            let mut repeat = None;
            match c {
                '*' | '+' | '?' => {
                    self.repetition(start)?;
                    self.out.push(c);
                    self.pos += 1;
                    self.lazy();
                    repeat = Some(start);
                }
                '{' => match self.counted() {
                    Some((text, n, m)) => {
                        if n > MAX_REPEAT || m.is_some_and(|m| m > MAX_REPEAT || m < n) {
                            self.pos += text.chars().count() - 1;
                            return Err(self.err("invalid repeat count", start));
                        }
                        self.repetition(start)?;
                        self.out.push_str(&text);
                        self.pos += text.chars().count();
                        self.lazy();
                        repeat = Some(start);
                    }
                    None => {
                        self.out.push_str(r"\{");
                        self.pos += 1;
                        self.can_repeat = true;
                    }
                },
                '(' => {
                    self.group()?;
                    self.can_repeat = false;
                }
                '|' => {
                    self.out.push('|');
                    self.pos += 1;
                    self.can_repeat = false;
                }
                ')' | '^' | '$' | '.' => {
                    self.out.push(c);
                    self.pos += 1;
                    self.can_repeat = true;
                }
                '[' => {
                    self.class()?;
                    self.can_repeat = true;
                }
                '\\' => {
                    self.escape()?;
                    self.can_repeat = true;
                }
                _ => {
                    self.literal(c);
                    self.pos += 1;
                    self.can_repeat = true;
                }
            }
            self.last_repeat = repeat;
        }
        Ok(())
    }

    /// Checks that a repetition operator at `start` has something to repeat
    /// and does not follow another.
    fn repetition(&self, start: usize) -> Result<(), String> {
        if let Some(prev) = self.last_repeat {
            return Err(self.err("invalid nested repetition operator", prev));
        }
        if !self.can_repeat {
            return Err(self.err("missing argument to repetition operator", start));
        }
        Ok(())
    }

    /// A `?` after a repetition makes it lazy.
    fn lazy(&mut self) {
        if self.peek(0) == Some('?') {
            self.out.push('?');
            self.pos += 1;
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` at the cursor: its text and numbers.
    fn counted(&self) -> Option<(String, u32, Option<u32>)> {
        let rest: String = self.src[self.pos..].iter().take(32).collect();
        let close = rest.find('}')?;
        let body = &rest[1..close];
        let number = |s: &str| -> Option<u32> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Go refuses big counts rather than reading them as literals.
            Some(s.parse::<u32>().unwrap_or(u32::MAX))
        };
        let (n, m) = match body.split_once(',') {
            None => {
                let n = number(body)?;
                (n, Some(n))
            }
            Some((a, "")) => (number(a)?, None),
            Some((a, b)) => (number(a)?, Some(number(b)?)),
        };
        Some((rest[..=close].to_string(), n, m))
    }

    /// `(`: a group, with Go's flags and names.
    fn group(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        if self.peek(0) != Some('?') {
            self.out.push('(');
            return Ok(());
        }
        // (?P<name>, (?<name>
        let named = match (self.peek(1), self.peek(2)) {
            (Some('P'), Some('<')) => Some(3),
            (Some('<'), _) => Some(2),
            _ => None,
        };
        if let Some(skip) = named {
            let from = self.pos + skip;
            let Some(len) = self.src[from..].iter().position(|&c| c == '>') else {
                self.pos = self.src.len() - 1;
                return Err(self.err("invalid named capture", start));
            };
            let name: String = self.src[from..from + len].iter().collect();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.pos = from + len;
                return Err(self.err("invalid named capture", start));
            }
            write!(self.out, "(?P<{name}>").expect("writing to a String");
            self.pos = from + len + 1;
            return Ok(());
        }
        // (?flags) or (?flags:
        let mut i = self.pos + 1;
        let mut flags = String::new();
        let mut negated = false;
        loop {
            match self.src.get(i) {
                Some(&c @ ('i' | 'm' | 's' | 'U')) => flags.push(c),
                Some('-') if !negated => {
                    negated = true;
                    flags.push('-');
                }
                Some(&c @ (')' | ':')) if !flags.ends_with('-') => {
                    // `(?)` sets nothing, as in Go.
                    if c == ':' || !flags.is_empty() {
                        self.out.push_str("(?");
                        self.out.push_str(&flags);
                        self.out.push(c);
                    }
                    self.pos = i + 1;
                    return Ok(());
                }
                _ => {
                    self.pos = i.min(self.src.len().saturating_sub(1));
                    return Err(self.err("invalid or unsupported Perl syntax", start));
                }
            }
            i += 1;
        }
    }

    /// A literal character outside a class.
    fn literal(&mut self, c: char) {
        let mut buf = [0; 4];
        self.out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
    }

    /// `\`, outside a class.
    fn escape(&mut self) -> Result<(), String> {
        let start = self.pos;
        let Some(c) = self.peek(1) else {
            return Err(self.err("trailing backslash at end of expression", start));
        };
        match c {
            'Q' => {
                self.pos += 2;
                while self.pos < self.src.len() {
                    if self.src[self.pos] == '\\' && self.peek(1) == Some('E') {
                        self.pos += 2;
                        return Ok(());
                    }
                    // Each quoted character is a token of its own: a
                    // repetition after `\Qab\E` repeats the `b`.
                    let q = self.src[self.pos];
                    self.literal(q);
                    self.pos += 1;
                }
                return Ok(());
            }
            'd' => self.out.push_str("[0-9]"),
            'D' => self.out.push_str("[^0-9]"),
            'w' => self.out.push_str("[0-9A-Za-z_]"),
            'W' => self.out.push_str("[^0-9A-Za-z_]"),
            's' => write!(self.out, "[{SPACE}]").expect("writing to a String"),
            'S' => write!(self.out, "[^{SPACE}]").expect("writing to a String"),
            'b' => self.out.push_str(r"(?-u:\b)"),
            'B' => self.out.push_str(r"(?-u:\B)"),
            'A' | 'z' => {
                self.out.push('\\');
                self.out.push(c);
            }
            // Go has no "any byte".
            'C' => return Err(self.err("invalid escape sequence", start)),
            'p' | 'P' => {
                self.pos += 2;
                return self.unicode_class(c, start, &mut String::new(), false);
            }
            _ => {
                self.pos += 1;
                let ch = self.char_escape(start)?;
                self.literal(ch);
                return Ok(());
            }
        }
        self.pos += 2;
        Ok(())
    }

    /// `\pX`, `\p{Name}` (the cursor after `\p`), written to `into` or
    /// to the output.
    fn unicode_class(
        &mut self,
        p: char,
        start: usize,
        into: &mut String,
        in_class: bool,
    ) -> Result<(), String> {
        let name: String = match self.peek(0) {
            Some('{') => {
                let Some(len) = self.src[self.pos..].iter().position(|&c| c == '}') else {
                    self.pos = self.src.len() - 1;
                    return Err(self.err("invalid character class range", start));
                };
                let n = self.src[self.pos + 1..self.pos + len].iter().collect();
                self.pos += len + 1;
                n
            }
            Some(c) => {
                self.pos += 1;
                c.to_string()
            }
            None => return Err(self.err("invalid character class range", start)),
        };
        // `\p{^L}` is `\P{L}`, and `\P{^L}` is `\p{L}`.
        let (p, name) = match name.strip_prefix('^') {
            Some(n) => (if p == 'p' { 'P' } else { 'p' }, n),
            None => (p, name.as_str()),
        };
        let Some(class) = go_unicode_class(name) else {
            self.pos -= 1;
            return Err(self.err("invalid character class range", start));
        };
        // Surrogates are no characters of a Rust string: nothing matches.
        let text = match (class, p) {
            ("Cs", 'p') => r"[^\x00-\x{10FFFF}]".to_string(),
            ("Cs", _) if in_class => r"\x00-\x{10FFFF}".to_string(),
            ("Cs", _) => "(?s:.)".to_string(),
            _ => format!("\\{p}{{{class}}}"),
        };
        if in_class {
            into.push_str(&text);
        } else {
            self.out.push_str(&text);
        }
        Ok(())
    }

    /// The character an escape stands for (the cursor on the character
    /// after `\`; left after the escape). Go's: octal, `\x`, the C
    /// escapes, and any punctuation.
    fn char_escape(&mut self, start: usize) -> Result<char, String> {
        let c = self.src[self.pos];
        self.pos += 1;
        let simple = match c {
            'a' => Some('\x07'),
            'f' => Some('\x0C'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0B'),
            _ => None,
        };
        if let Some(s) = simple {
            return Ok(s);
        }
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            return Ok(c);
        }
        match c {
            // Octal: `\0`, or up to three digits when `\1`-`\7` is followed
            // by a digit (a lone `\1` would be a backreference).
            '0'..='7' => {
                if c != '0' && !self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                    return Err(self.err("invalid escape sequence", start));
                }
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                char::from_u32(v).ok_or_else(|| self.err("invalid escape sequence", start))
            }
            'x' => {
                let hex: String = if self.peek(0) == Some('{') {
                    let Some(len) = self.src[self.pos..].iter().position(|&c| c == '}') else {
                        return Err(self.err("invalid escape sequence", start));
                    };
                    let h = self.src[self.pos + 1..self.pos + len].iter().collect();
                    self.pos += len + 1;
                    h
                } else {
                    let h: String = self.src[self.pos..].iter().take(2).collect();
                    self.pos += h.chars().count();
                    h
                };
                let valid = !hex.is_empty() && hex.len() <= 8;
                valid
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.err("invalid escape sequence", start))
            }
            _ => {
                self.pos -= 1;
                Err(self.err("invalid escape sequence", start))
            }
        }
    }

    /// `[...]`: every item rewritten, so that nothing in it is one of the
    /// `regex` crate's set operations.
    fn class(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        let mut body = String::from("[");
        if self.peek(0) == Some('^') {
            body.push('^');
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek(0) else {
                self.pos = self.src.len() - 1;
                return Err(self.err("missing closing ]", start));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            // [:alpha:], [:^alpha:]
            if c == '[' && self.peek(1) == Some(':') {
                let rest: String = self.src[self.pos..].iter().take(16).collect();
                if let Some(end) = rest[2..].find(":]") {
                    let name = &rest[2..2 + end];
                    if !is_posix_class(name.trim_start_matches('^')) {
                        return Err(self.err("invalid character class range", self.pos));
                    }
                    body.push_str(&rest[..end + 4]);
                    self.pos += rest[..end + 4].chars().count();
                    continue;
                }
            }
            if c == '\\' {
                let perl = match self.peek(1) {
                    Some('d') => Some(DIGIT.to_string()),
                    Some('D') => Some(format!("[^{DIGIT}]")),
                    Some('w') => Some(WORD.to_string()),
                    Some('W') => Some(format!("[^{WORD}]")),
                    Some('s') => Some(SPACE.to_string()),
                    Some('S') => Some(format!("[^{SPACE}]")),
                    _ => None,
                };
                if let Some(p) = perl {
                    body.push_str(&p);
                    self.pos += 2;
                    continue;
                }
                if let Some(p @ ('p' | 'P')) = self.peek(1) {
                    let at = self.pos;
                    self.pos += 2;
                    self.unicode_class(p, at, &mut body, true)?;
                    continue;
                }
            }
            let lo = self.class_char()?;
            // `a-z`; `a-]` is `a` and `-`.
            if self.peek(0) == Some('-') && self.peek(1).is_some_and(|n| n != ']') {
                let at = self.pos;
                self.pos += 1;
                let hi = self.class_char()?;
                if hi < lo {
                    return Err(self.err("invalid character class range", at - 1));
                }
                write!(body, "{}-{}", class_literal(lo), class_literal(hi))
                    .expect("writing to a String");
            } else {
                body.push_str(&class_literal(lo));
            }
        }
        body.push(']');
        self.out.push_str(&body);
        Ok(())
    }

    /// One character of a class: itself or an escape.
    fn class_char(&mut self) -> Result<char, String> {
        let c = self.src[self.pos];
        if c != '\\' {
            self.pos += 1;
            return Ok(c);
        }
        let start = self.pos;
        if self.peek(1).is_none() {
            return Err(self.err("trailing backslash at end of expression", start));
        }
        self.pos += 1;
        self.char_escape(start)
    }
}

/// A class member the `regex` crate reads as that character only.
fn class_literal(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:X}}}", c as u32)
    }
}

fn is_posix_class(name: &str) -> bool {
    matches!(
        name,
        "alnum"
            | "alpha"
            | "ascii"
            | "blank"
            | "cntrl"
            | "digit"
            | "graph"
            | "lower"
            | "print"
            | "punct"
            | "space"
            | "upper"
            | "word"
            | "xdigit"
    )
}

/// The Unicode classes Go 1.26's `regexp` knows, by the name its
/// `canonicalName` makes (first letter upper, the rest lower, no `_`, `-`
/// or space), and, after `=`, the class when it is named otherwise: every
/// name of `unicode.Categories`, `unicode.Scripts` and
/// `unicode.CategoryAliases` that `regexp.Compile` accepts, and `Any`,
/// `Assigned`, `ASCII`. Go's tables are Unicode 15.0; the `regex` crate's
/// are newer, so characters added since may match otherwise.
const GO_CLASSES: &str = "\
Adlam Ahom Any Arabic Armenian Ascii=ASCII Assigned Avestan Balinese Bamum Batak Bengali \
Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid C Carian Casedletter=LC Cc Cf Chakma \
Cham Cherokee Chorasmian Closepunctuation=Pe Cn Cntrl=Cc Co Combiningmark=M Common \
Connectorpunctuation=Pc Control=Cc Coptic Cs Cuneiform Currencysymbol=Sc Cypriot Cyrillic \
Dashpunctuation=Pd Decimalnumber=Nd Deseret Devanagari Digit=Nd Dogra Duployan Elbasan \
Elymaic Enclosingmark=Me Ethiopic Finalpunctuation=Pf Format=Cf Georgian Glagolitic \
Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran Hebrew Hiragana \
Inherited Initialpunctuation=Pi Javanese Kaithi Kannada Katakana Kawi Kharoshthi Khmer \
Khojki Khudawadi L Lao Latin Lc=LC Lepcha Letter=L Letternumber=Nl Limbu Lineseparator=Zl \
Lisu Ll Lm Lo Lowercaseletter=Ll Lt Lu Lycian Lydian M Mahajani Makasar Malayalam Mandaic \
Manichaean Marchen Mark=M Mathsymbol=Sm Mc Me Medefaidrin Miao Mn Modi Modifierletter=Lm \
Modifiersymbol=Sk Mongolian Mro Multani Myanmar N Nabataean Nandinagari Nd Newa Nko Nl No \
Nonspacingmark=Mn Number=N Nushu Ogham Openpunctuation=Ps Oriya Osage Osmanya Other=C \
Otherletter=Lo Othernumber=No Otherpunctuation=Po Othersymbol=So P Palmyrene \
Paragraphseparator=Zp Pc Pd Pe Pf Phoenician Pi Po Privateuse=Co Ps Punct=P Punctuation=P \
Rejang Runic S Samaritan Saurashtra Sc Separator=Z Sharada Shavian Siddham Sinhala Sk Sm \
So Sogdian Soyombo Spaceseparator=Zs Spacingmark=Mc Sundanese Surrogate=Cs Symbol=S \
Syriac Tagalog Tagbanwa Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh \
Tirhuta Titlecaseletter=Lt Toto Ugaritic Unassigned=Cn Uppercaseletter=Lu Vai Vithkuqi \
Wancho Yezidi Yi Z Zl Zp Zs";

/// The class a `\p{name}` means in Go, as the `regex` crate names it.
fn go_unicode_class(name: &str) -> Option<&'static str> {
    let mut canon = String::new();
    for c in name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')) {
        if canon.is_empty() {
            canon.push(c.to_ascii_uppercase());
        } else {
            canon.push(c.to_ascii_lowercase());
        }
    }
    GO_CLASSES.split_whitespace().find_map(|e| {
        let (key, class) = e.split_once('=').unwrap_or((e, e));
        (key == canon).then_some(class)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &str) -> bool {
        go_regex(re)
            .unwrap_or_else(|e| panic!("{re}: {e}"))
            .is_match(s)
    }

    /// Go's Unicode class names, loosely spelled as Go 1.26 allows, and
    /// only those; each is a class the `regex` crate knows.
    #[test]
    fn unicode_classes_as_go_names_them() {
        for e in GO_CLASSES.split_whitespace() {
            let name = e.split_once('=').map_or(e, |(k, _)| k);
            for p in ['p', 'P'] {
                go_regex(&format!("\\{p}{{{name}}}")).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        assert!(m(r"\p{^L}", "1") && !m(r"\p{^L}", "a"));
        assert!(m(r"^\P{^L}$", "a"));
        assert!(m(r"\p{ Lu}", "A") && m(r"\p{upper-case_LETTER}", "A") && m(r"\pl", "x"));
        assert!(!m(r"\p{Cs}", "a") && m(r"^\P{Cs}$", "a"));
        assert!(!m(r"[\p{Cs}]", "a") && m(r"^[\P{Cs}]$", "a") && m(r"^[^\p{Cs}x]$", "a"));
        for bad in [
            r"\p{IsLatin}",
            r"\p{Latn}",
            r"\p{Old_Italic}",
            r"\p{}",
            r"\C",
            r"(?-)",
        ] {
            assert!(go_regex(bad).is_err(), "{bad}");
        }
        assert!(m("(?)a", "a"));
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(m(r"v\d/", "pkg/v2/a.go"));
        assert!(!m(r"v\d/", "pkg/v٣/a.go"));
        assert!(!m(r"pkg/\w/", "pkg/é/c.go"));
        assert!(m(r"pkg/\W", "pkg/é/c.go"));
        assert!(!m(r"a\sb", "a\u{a0}b"));
        assert!(m(r"a\sb", "a\tb"));
        assert!(m(r"[\d]x", "7x") && !m(r"[\d]x", "٣x"));
        assert!(m(r"[^\D]", "5") && !m(r"^[^\D]$", "٣"));
        assert!(m(r"[\S]", "é"));
    }

    #[test]
    fn word_boundaries_are_ascii() {
        // é is not a word character for Go: a boundary between it and x.
        assert!(m(r"é\bx", "éx"));
        assert!(!m(r"a\Bx", "a x"));
    }

    #[test]
    fn quoting_and_literals() {
        assert!(m(r"\Qpkg/v2\E", "x/pkg/v2/y"));
        assert!(!m(r"\Qa.b\E", "axb"));
        assert!(m(r"\Qab\E+", "abbb") && m(r"^\Qab\E+$", "abb"));
        assert!(m(r"\Qa.b", "a.b"));
        assert!(m(r"a{", "a{") && m(r"a{,3}", "a{,3}") && m(r"x}", "x}"));
        assert!(m(r"a{2}", "aa") && !m(r"^a{2}$", "a"));
        assert!(m(r"\<x\>", "<x>"));
        assert!(m(r"\x41\x{42}\101", "ABA"));
        assert!(m(r"\.go$", "a.go") && !m(r"\.go$", "a_go"));
    }

    #[test]
    fn classes_have_no_set_operations() {
        assert!(m(r"^[a&&b]$", "&"));
        assert!(m(r"^[a~~b]$", "~"));
        assert!(m(r"^[+--]$", ","));
        assert!(m(r"^[[x]$", "["));
        assert!(m(r"^[]a]$", "]"));
        assert!(m(r"^[a-]$", "-"));
        assert!(m(r"^[a-c-e]$", "-") && !m(r"^[a-c-e]$", "d"));
        assert!(m(r"^[[:alpha:]]+$", "abc") && !m(r"^[[:^alpha:]]$", "a"));
        assert!(m(r"^[\p{Greek}]$", "λ") && m(r"^\pL$", "λ"));
    }

    #[test]
    fn flags_and_groups() {
        assert!(m(r"(?i)ABC", "xabc"));
        assert!(m(r"(?i:A)b", "ab") && !m(r"(?i:A)b", "aB"));
        assert!(m(r"(?P<v>v\d)/(?<w>x)", "v1/x"));
        assert!(m(r"(a|b)*c", "ababc"));
    }

    #[test]
    fn what_go_refuses() {
        for re in [
            r"a**",
            r"x*?+",
            r"a+*",
            r"a{2}*",
            r"a{1001}",
            r"a{3,2}",
            r"*a",
            r"(?x)a",
            r"(?=a)",
            r"\1",
            r"\e",
            r"[b-a]",
            r"[[:foo:]]",
            r"[a",
            r"a\",
            r"(?P<>a)",
        ] {
            assert!(go_regex(re).is_err(), "{re} should be refused");
        }
        let e = go_regex(r"pkg/a**").unwrap_err();
        assert!(
            e.contains("invalid nested repetition operator: `**`"),
            "{e}"
        );
    }

    #[test]
    fn lazy_repetition_is_one_operator() {
        assert!(m(r"^a*?b$", "aab"));
        assert!(m(r"^a{1,2}?b$", "ab"));
    }
}
