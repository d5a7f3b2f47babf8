//! The API's routes, tested on the router without a socket.

mod alerts;
mod every_route;
mod forecasts;
mod harness;
mod orders;
mod plants;
mod rate_limits;
mod scenario_loads;
mod schemas;
mod screens;
mod studio;
