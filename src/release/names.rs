//! Which characters a name from a bundle may show: sealing cleans the names it writes and
//! opening cleans the names it reads with the same test, so a name cannot pass one side and
//! fool the other.

/// A name as shown and written: control, bidirectional and other invisible format
/// characters (which can make `fdp.exe` read as `exe.pdf`) become `_`.
pub fn displayable(name: &str) -> String {
    name.chars()
        .map(|c| if is_hidden_char(c) { '_' } else { c })
        .collect()
}

/// Characters that change how text is shown without being seen: controls (Cc), format
/// characters (Cf: the bidirectional marks, embeddings, overrides and isolates, zero-width
/// characters, the soft hyphen, tags), line and paragraph separators (Zl, Zp), and the
/// fillers that show as nothing.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}
