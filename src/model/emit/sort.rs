//! The key order yaml.v3 prints Go map keys in: a "natural" order where runs
//! of digits compare as numbers (`web2` before `web10`) and, at the first
//! difference, a non-letter sorts before a letter unless it follows digits.

use std::cmp::Ordering;

/// yaml.v3's `keyList.Less` for two string keys.
pub fn natural_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_numeric();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        return compare_digit_runs(&ar, &br, i);
    }
    ar.len() < br.len()
}

/// Both keys differ at `i` on non-letters: compare the digit runs starting
/// there as numbers (a leading zero after other digits keeps them apart).
fn compare_digit_runs(ar: &[char], br: &[char], i: usize) -> bool {
    let (mut an, mut bn) = (0i64, 0i64);
    if ar[i] == '0' || br[i] == '0' {
        let mut j = i;
        while j > 0 && ar[j - 1].is_numeric() {
            if ar[j - 1] != '0' {
                an = 1;
                bn = 1;
                break;
            }
            j -= 1;
        }
    }
    let mut ai = i;
    while ai < ar.len() && ar[ai].is_ascii_digit() {
        an = an
            .saturating_mul(10)
            .saturating_add(ar[ai] as i64 - '0' as i64);
        ai += 1;
    }
    let mut bi = i;
    while bi < br.len() && br[bi].is_ascii_digit() {
        bn = bn
            .saturating_mul(10)
            .saturating_add(br[bi] as i64 - '0' as i64);
        bi += 1;
    }
    if an != bn {
        return an < bn;
    }
    if ai != bi {
        return ai < bi;
    }
    ar[i] < br[i]
}

/// An `Ordering` from [`natural_less`], for `sort_by`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn digits_compare_as_numbers() {
        assert_eq!(
            sorted(&["web10", "web2", "web1"]),
            ["web1", "web2", "web10"]
        );
    }

    #[test]
    fn non_letters_sort_before_letters() {
        assert_eq!(sorted(&["aB", "a_"]), ["a_", "aB"]);
        assert_eq!(
            sorted(&["db", "app", "x-y", "cache"]),
            ["app", "cache", "db", "x-y"]
        );
    }
}
