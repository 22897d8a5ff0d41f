//! Command lines for admins that work on the configured database, with the hub running or
//! not. `main.rs` parses them and prints what they return.

pub mod apps;

/// A plain-text table: a header, then rows, columns padded to their widest cell.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.into_iter().collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up() {
        let t = super::table(
            &["ID", "IMAGE"],
            [
                vec!["1".into(), "desktop:1".into()],
                vec!["10".into(), "x".into()],
            ],
        );
        assert_eq!(t, "ID  IMAGE\n1   desktop:1\n10  x");
    }
}
