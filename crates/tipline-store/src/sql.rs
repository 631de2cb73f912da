//! A small SQL text builder that numbers `$n` placeholders as values are bound, so dynamic
//! queries (filters, multi-row inserts) stay parameterized on both backends.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, FromRow, Type};

use crate::StoreResult;

/// SQL text plus its bound arguments.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    count: usize,
}

impl Sql {
    /// Start a query from a fixed prefix.
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), args: AnyArguments::default(), count: 0 }
    }

    /// Start a query whose `$1` is the reader's organization id, as the visibility
    /// fragments of [`crate::visibility`] expect.
    pub(crate) fn for_reader(org_id: &str) -> Sql {
        let mut sql = Sql::new("");
        sql.count = 1;
        sql.args.add(org_id.to_string()).expect("text encodes");
        sql
    }

    /// Append raw SQL text (never user input).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
        self.count += 1;
        self.args.add(value).expect("value encodes");
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        self
    }

    /// Append `$a, $b, ...` bound to each value (at least one value required by SQL).
    pub(crate) fn bind_list<T, I>(&mut self, values: I) -> &mut Sql
    where
        I: IntoIterator<Item = T>,
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self
    }

    fn query(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.text), self.args)
    }

    /// Run and decode every row.
    pub(crate) async fn fetch_all<'e, T, E>(self, executor: E) -> StoreResult<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        E: sqlx::Executor<'e, Database = Any>,
    {
        let rows = self.query().fetch_all(executor).await?;
        rows.iter().map(|row| T::from_row(row).map_err(Into::into)).collect()
    }

    /// Run and decode at most one row.
    pub(crate) async fn fetch_optional<'e, T, E>(self, executor: E) -> StoreResult<Option<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        E: sqlx::Executor<'e, Database = Any>,
    {
        match self.query().fetch_optional(executor).await? {
            Some(row) => Ok(Some(T::from_row(&row)?)),
            None => Ok(None),
        }
    }

    /// Run, returning the number of rows affected.
    pub(crate) async fn execute<'e, E>(self, executor: E) -> StoreResult<u64>
    where
        E: sqlx::Executor<'e, Database = Any>,
    {
        Ok(self.query().execute(executor).await?.rows_affected())
    }
}

/// SQLite accepts at most 32,766 bound values per statement; stay well below it.
pub(crate) const MAX_BINDS: usize = 30_000;
