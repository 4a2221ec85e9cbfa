//! How a Rust field type becomes an Arrow column: its data type, whether it may be null, and how a
//! slice of values is built into an array. The event struct in [`crate::event`] names only Rust types;
//! the `events` schema and batch building follow from the impls here, so they cannot drift apart.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    StructBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field};
use chrono::{DateTime, Utc};

use crate::event::Change;
use crate::schema::{LIST_ITEM, change_fields, changes_type, string_list_type, time_type};

/// What building a batch needs besides the values.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext {
    /// Microseconds since the epoch of "now": an `ingest_time` not yet stamped is stamped with it.
    pub now_micros: i64,
}

/// A Rust type that is one column of a table.
pub trait Column {
    /// The Arrow data type.
    fn data_type() -> DataType;
    /// Whether the column may hold nulls.
    fn nullable() -> bool;
    /// The field of a column of this type named `name`.
    fn field(name: &str) -> Field {
        Field::new(name, Self::data_type(), Self::nullable())
    }
    /// Builds the column from one value per row.
    fn array<'a>(values: impl ExactSizeIterator<Item = &'a Self>, ctx: &BuildContext) -> ArrayRef
    where
        Self: 'a;
}

/// A scalar column: `$ty` values appended to the builder `$new` makes for `$n` rows, with `$append`
/// (`append_value` for a required column, `append_option` for a nullable one).
macro_rules! scalar_column {
    ($ty:ty, $data_type:expr, $nullable:expr, |$n:ident| $new:expr, |$b:ident, $v:ident| $append:expr) => {
        impl Column for $ty {
            fn data_type() -> DataType {
                $data_type
            }
            fn nullable() -> bool {
                $nullable
            }
            fn array<'a>(
                values: impl ExactSizeIterator<Item = &'a Self>,
                _: &BuildContext,
            ) -> ArrayRef {
                let $n = values.len();
                let mut $b = $new;
                for $v in values {
                    $append;
                }
                Arc::new($b.finish())
            }
        }
    };
}

scalar_column!(
    String,
    DataType::Utf8,
    false,
    |n| StringBuilder::with_capacity(n, n * 16),
    |b, v| b.append_value(v)
);
scalar_column!(
    Option<String>,
    DataType::Utf8,
    true,
    |n| StringBuilder::with_capacity(n, n * 16),
    |b, v| b.append_option(v.as_deref())
);
scalar_column!(
    i32,
    DataType::Int32,
    false,
    |n| Int32Builder::with_capacity(n),
    |b, v| b.append_value(*v)
);
scalar_column!(
    Option<i64>,
    DataType::Int64,
    true,
    |n| Int64Builder::with_capacity(n),
    |b, v| b.append_option(*v)
);
scalar_column!(
    Option<bool>,
    DataType::Boolean,
    true,
    |n| BooleanBuilder::with_capacity(n),
    |b, v| b.append_option(*v)
);

impl Column for DateTime<Utc> {
    fn data_type() -> DataType {
        time_type()
    }
    fn nullable() -> bool {
        false
    }
    fn array<'a>(values: impl ExactSizeIterator<Item = &'a Self>, _: &BuildContext) -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(values.len()).with_timezone("UTC");
        for v in values {
            b.append_value(v.timestamp_micros());
        }
        Arc::new(b.finish())
    }
}

/// A time the writer stamps when the event has none (`ingest_time`): never null in the table.
impl Column for Option<DateTime<Utc>> {
    fn data_type() -> DataType {
        time_type()
    }
    fn nullable() -> bool {
        false
    }
    fn array<'a>(values: impl ExactSizeIterator<Item = &'a Self>, ctx: &BuildContext) -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(values.len()).with_timezone("UTC");
        for v in values {
            b.append_value(v.map_or(ctx.now_micros, |t| t.timestamp_micros()));
        }
        Arc::new(b.finish())
    }
}

impl Column for Vec<String> {
    fn data_type() -> DataType {
        string_list_type()
    }
    fn nullable() -> bool {
        false
    }
    fn array<'a>(values: impl ExactSizeIterator<Item = &'a Self>, _: &BuildContext) -> ArrayRef {
        let item = Arc::new(Field::new(LIST_ITEM, DataType::Utf8, false));
        let mut b = ListBuilder::new(StringBuilder::new()).with_field(item);
        for list in values {
            for s in list {
                b.values().append_value(s);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }
}

impl Column for Vec<Change> {
    fn data_type() -> DataType {
        changes_type()
    }
    fn nullable() -> bool {
        false
    }
    fn array<'a>(values: impl ExactSizeIterator<Item = &'a Self>, _: &BuildContext) -> ArrayRef {
        let fields = change_fields();
        let item = Arc::new(Field::new(
            LIST_ITEM,
            DataType::Struct(fields.clone()),
            false,
        ));
        let mut b = ListBuilder::new(StructBuilder::from_fields(fields, 0)).with_field(item);
        for list in values {
            for c in list {
                let s = b.values();
                s.field_builder::<StringBuilder>(0)
                    .expect("path is Utf8")
                    .append_value(&c.path);
                s.field_builder::<StringBuilder>(1)
                    .expect("old is Utf8")
                    .append_option(c.old.as_deref());
                s.field_builder::<StringBuilder>(2)
                    .expect("new is Utf8")
                    .append_option(c.new.as_deref());
                s.field_builder::<BooleanBuilder>(3)
                    .expect("redacted is Boolean")
                    .append_value(c.redacted);
                s.append(true);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }
}
