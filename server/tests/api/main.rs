//! Integration tests against the real services the test command starts.
//! One binary (modules below) so the stack links once.

mod accounts;
mod anonymous;
mod automation;
mod bounds;
mod cloud;
mod cloud_servers;
mod cluster;
mod delivery;
mod destinations;
mod durability;
mod edge;
mod endpoints;
mod health;
mod helpers;
mod http_payload;
mod kafka_security;
mod logs;
mod observability;
mod outage;
mod receiver;
mod services;
mod sessions;
mod siem;
mod storage;
mod stranded;
mod streams;
