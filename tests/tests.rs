//! End-to-end tests of the `fitpipe` binary: one integration binary (see tests/it/).

mod it;
