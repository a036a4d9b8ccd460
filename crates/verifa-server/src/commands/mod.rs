//! The subcommands of `verifa`: `serve` (default) and the operator commands that work on the
//! configured database (`migrate`, `orgs`, `keys`, `users`, `audit`, `seed`).

pub mod audit;
pub mod keys;
pub mod migrate;
pub mod orgs;
pub mod seed;
pub mod seed_reviews;
pub mod seed_samples;
pub mod serve;
pub mod users;
pub mod watchlists;

use verifa_app::api_keys::IssuedKey;

/// Prints issued secrets to the terminal (stdout), never through the log stream.
#[allow(clippy::print_stdout)]
pub fn print_keys(title: &str, org_id: &str, keys: &[IssuedKey]) {
    println!();
    println!("==================================================================");
    println!(" {title}");
    println!(" organization: {org_id}");
    for k in keys {
        println!(
            " {:<8} key {}  {}",
            k.key.environment.as_str(),
            k.key.id,
            k.secret
        );
    }
    println!(" These secrets are shown once. Store them now.");
    println!("==================================================================");
    println!();
}
