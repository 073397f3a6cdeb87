//! Juries: the result formula, judging criteria, jurors, conflicts and scores, who may see and
//! change what, and the freeze of the final results. The computation itself is pure and lives in
//! `crate::results`.

pub mod models;
