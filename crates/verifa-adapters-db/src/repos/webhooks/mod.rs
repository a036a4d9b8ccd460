//! The webhook ports on sea-orm: [`EndpointStore`](verifa_ports::webhook_store::EndpointStore),
//! [`OutboxFanOut`](verifa_ports::webhook_store::OutboxFanOut) and
//! [`DeliveryStore`](verifa_ports::webhook_store::DeliveryStore).

mod deliveries;
mod endpoints;
mod fan_out;
mod rows;
