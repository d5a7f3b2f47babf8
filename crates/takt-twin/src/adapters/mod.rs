//! Converters from real plant sources into takt events (`takt adapt`): MTConnect SHDR recordings,
//! the Azure predictive-maintenance tables and job-shop MES logs.

pub mod mtconnect;
pub mod tables;
