//! Column-aligned tables the way docker's CLI prints them through Go's
//! `text/tabwriter`: each column as wide as its widest cell plus the
//! padding (at least `min_width`), the last column never padded.

/// A tabwriter's settings (`tabwriter.NewWriter(w, minwidth, _, padding, ' ', 0)`).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub min_width: usize,
    pub padding: usize,
}

/// docker compose's `top`: minwidth 4, padding 2.
pub const COMPOSE: Layout = Layout {
    min_width: 4,
    padding: 2,
};

/// docker compose's `formatter.PrintPrettySection` (`ls`): minwidth 20,
/// padding 3.
pub const PRETTY: Layout = Layout {
    min_width: 20,
    padding: 3,
};

/// The docker CLI's formatter (`docker stats`): minwidth 10, padding 3.
pub const STATS: Layout = Layout {
    min_width: 10,
    padding: 3,
};

/// Render `header` and `rows` (each row as many cells as the header).
pub fn render(layout: Layout, header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths = vec![0usize; columns];
    let all = std::iter::once(header.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .chain(rows.iter().cloned())
        .collect::<Vec<_>>();
    for row in &all {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + layout.padding);
        }
    }
    let mut out = String::new();
    for row in &all {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let w = widths[i].max(layout.min_width);
                line.push_str(cell);
                line.push_str(&" ".repeat(w.saturating_sub(cell.chars().count())));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_take_the_widest_cell_plus_padding() {
        let rows = vec![
            vec!["web".to_string(), "1".to_string(), "sleep 10".to_string()],
            vec!["database".to_string(), "12".to_string(), "x".to_string()],
        ];
        let text = render(COMPOSE, &["SERVICE", "#", "CMD"], &rows);
        assert_eq!(
            text,
            "SERVICE   #   CMD\nweb       1   sleep 10\ndatabase  12  x\n"
        );
    }

    #[test]
    fn min_width_applies_to_narrow_columns() {
        let rows = vec![vec!["a".to_string(), "b".to_string()]];
        assert_eq!(
            render(STATS, &["X", "Y"], &rows),
            "X         Y\na         b\n"
        );
    }
}
