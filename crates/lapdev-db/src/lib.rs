//! The Lapdev datastore: SQLite or PostgreSQL behind one API, one module per resource.
