//! Output formats. Every renderer treats article and model text as untrusted: it is escaped for
//! the format it lands in, so nothing in an article can become markup or script.

pub mod brief;
pub mod estimate;
pub mod html;
pub mod json;
pub mod markdown;
