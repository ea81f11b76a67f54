//! fitpipe's studies: the study file and roster, consent and enrollment (the consent page),
//! runs over the roster under one project rate budget, and the coverage a coordinator
//! reads. Built on [`fitpipe_pipeline`]; knows no command line.

pub mod coverage;
pub mod enroll;
pub mod study;

pub use study::*;
