//! A small SQL builder: text with numbered `$n` placeholders plus the values bound to them.
//!
//! Queries are written once, PostgreSQL style (`$1` may appear several times, e.g. the
//! reader's organization in visibility fragments). At execution the text is adapted to the
//! connection: PostgreSQL takes it as is; for SQLite every `$n` becomes an anonymous `?`
//! with its value bound again at each occurrence, because SQLite resolves named and
//! numbered parameters with linear scans (quadratic in the number of placeholders of a
//! multi-row insert), while anonymous ones cost nothing.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, FromRow};

use crate::StoreResult;

/// A value bound to a placeholder. Everything tipline stores is text or a 64-bit integer.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
    NullText,
    NullInt,
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

/// SQL text plus its bound values.
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    /// Start a query from a fixed prefix.
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), values: Vec::new() }
    }

    /// Start a query whose `$1` is the reader's organization id, as the visibility
    /// fragments of [`crate::visibility`] expect.
    pub(crate) fn for_reader(org_id: &str) -> Sql {
        Sql { text: String::new(), values: vec![Value::Text(org_id.to_string())] }
    }

    /// Append raw SQL text (never user input).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Bind `value` to the next placeholder number without writing the placeholder: for a
    /// `$n` the text already holds (a value used several times, written as `$1`).
    pub(crate) fn value(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self
    }

    /// Append `$a, $b, ...` bound to each value.
    pub(crate) fn bind_list<T: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Sql {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self
    }

    /// The text and arguments for `conn`'s engine.
    fn prepare(self, conn: &AnyConnection) -> (String, AnyArguments) {
        let mut args = AnyArguments::default();
        let add = |args: &mut AnyArguments, value: Value| {
            let result = match value {
                Value::Text(s) => args.add(s),
                Value::Int(i) => args.add(i),
                Value::NullText => args.add(None::<String>),
                Value::NullInt => args.add(None::<i64>),
            };
            result.expect("text and integers always encode");
        };
        if conn.backend_name() != "SQLite" {
            for value in self.values {
                add(&mut args, value);
            }
            return (self.text, args);
        }
        // Placeholders in order of appearance: (byte range, value number).
        let bytes = self.text.as_bytes();
        let mut occurrences = Vec::with_capacity(self.values.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let mut end = i + 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                let n: usize = self.text[i + 1..end].parse().expect("digits");
                occurrences.push((i, end, n - 1));
                i = end;
            } else {
                i += 1;
            }
        }
        let mut remaining = vec![0usize; self.values.len()];
        for &(_, _, n) in &occurrences {
            remaining[n] += 1;
        }
        let mut values = self.values;
        let mut text = String::with_capacity(self.text.len());
        let mut start = 0;
        for (from, to, n) in occurrences {
            text.push_str(&self.text[start..from]);
            text.push('?');
            remaining[n] -= 1;
            if remaining[n] == 0 {
                // Last use: move the value instead of cloning it.
                add(&mut args, std::mem::replace(&mut values[n], Value::NullInt));
            } else {
                add(&mut args, values[n].clone());
            }
            start = to;
        }
        text.push_str(&self.text[start..]);
        (text, args)
    }

    /// Run and decode every row.
    pub(crate) async fn fetch_all<T>(self, conn: &mut AnyConnection) -> StoreResult<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let (text, args) = self.prepare(conn);
        let rows = sqlx::query_with(sqlx::AssertSqlSafe(text), args).fetch_all(conn).await?;
        rows.iter().map(|row| T::from_row(row).map_err(Into::into)).collect()
    }

    /// Run and decode at most one row.
    pub(crate) async fn fetch_optional<T>(self, conn: &mut AnyConnection) -> StoreResult<Option<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let (text, args) = self.prepare(conn);
        match sqlx::query_with(sqlx::AssertSqlSafe(text), args).fetch_optional(conn).await? {
            Some(row) => Ok(Some(T::from_row(&row)?)),
            None => Ok(None),
        }
    }

    /// Run, returning the number of rows affected.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> StoreResult<u64> {
        let (text, args) = self.prepare(conn);
        Ok(sqlx::query_with(sqlx::AssertSqlSafe(text), args).execute(conn).await?.rows_affected())
    }
}

/// SQLite accepts at most 32,766 bound values per statement; stay well below it.
pub(crate) const MAX_BINDS: usize = 30_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_in_binding_order() {
        let mut sql = Sql::for_reader("org");
        sql.push("SELECT 1 WHERE a = $1 AND b = ")
            .bind(5i64)
            .push(" AND c IN (")
            .bind_list(["x".to_string(), "y".to_string()])
            .push(")");
        assert_eq!(sql.text, "SELECT 1 WHERE a = $1 AND b = $2 AND c IN ($3, $4)");
        assert_eq!(sql.values.len(), 4);
    }
}
