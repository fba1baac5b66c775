//! Text as people type it.

use unicode_normalization::UnicodeNormalization;

/// Lower case without accents, for matching what people type ("aisha" finds "Aïsha").
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
