//! Local emulator upkeep for `glucolens serve`: moto keeps everything in memory, so a restarted emulator has lost the
//! analysis queue, the imports bucket and the signing-key secret. The server puts them back by itself — the secret
//! with the key it already signs with, so tokens it issued stay valid — instead of answering 503 until restarted.
//! Deployed resources belong to the template and are never created here.

use std::time::Duration;

use glucolens_aws::queue::AnalysisQueue;
use glucolens_aws::secrets;
use glucolens_aws::storage::UploadBucket;
use secrecy::SecretString;

/// How often the emulator is checked.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// What the server needs to find in the emulator.
pub struct Resources {
    pub secrets: aws_sdk_secretsmanager::Client,
    pub signing_key_id: String,
    pub signing_key: SecretString,
    pub queue: AnalysisQueue,
    pub bucket: UploadBucket,
}

/// What one check had to recreate.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    pub signing_key: bool,
    pub queue: bool,
    pub bucket: bool,
}

impl Resources {
    /// Recreates whatever is missing; an unreachable emulator is an error (retried at the next check).
    pub async fn restore_once(&self) -> anyhow::Result<Restored> {
        Ok(Restored {
            signing_key: secrets::restore(&self.secrets, &self.signing_key_id, &self.signing_key).await?,
            queue: self.queue.ensure_exists().await?,
            bucket: self.bucket.ensure_exists().await?,
        })
    }

    /// Checks every [`CHECK_EVERY`] until the task is aborted.
    pub async fn keep(self) {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            match self.restore_once().await {
                Ok(restored) if restored != Restored::default() => {
                    tracing::warn!(?restored, "the AWS emulator had lost resources; recreated them")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the AWS emulator is unreachable; will check again"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};

    /// A moto server of this test's own on a free port (the shared one must not be restarted under other tests).
    fn start_moto(port: u16) -> Child {
        let binary = std::env::var("MOTO_SERVER")
            .expect("set MOTO_SERVER to the moto_server binary: run the tests through the README test command");
        Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts")
    }

    async fn wait_until_up(endpoint: &str, sdk: &aws_config::SdkConfig) {
        let client = aws_sdk_sqs::Client::new(sdk);
        for _ in 0..200 {
            if client.list_queues().send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto did not start at {endpoint}");
    }

    #[tokio::test]
    async fn a_restarted_emulator_gets_its_queue_bucket_and_the_same_signing_key_back() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut moto = start_moto(port);
        let sdk = aws_config::from_env()
            .endpoint_url(&endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "local", "local", None, None, "test",
            ))
            .load()
            .await;
        wait_until_up(&endpoint, &sdk).await;

        let secrets_client = aws_sdk_secretsmanager::Client::new(&sdk);
        let key = secrets::read_or_create(&secrets_client, "glucolens/signing-key", secrets::random_signing_key)
            .await
            .unwrap();
        let queue = AnalysisQueue::resolve(aws_sdk_sqs::Client::new(&sdk), "glucolens-analysis", true)
            .await
            .unwrap();
        let bucket = UploadBucket::new(&sdk, "glucolens-imports-local".into());
        let resources = Resources {
            secrets: secrets_client.clone(),
            signing_key_id: "glucolens/signing-key".into(),
            signing_key: key.clone(),
            queue: queue.clone(),
            bucket,
        };
        let first = resources.restore_once().await.unwrap();
        assert_eq!(
            first,
            Restored {
                bucket: true,
                ..Restored::default()
            },
            "only the bucket was missing"
        );
        assert_eq!(
            resources.restore_once().await.unwrap(),
            Restored::default(),
            "nothing missing any more"
        );

        // The emulator restarts with nothing, and a CLI run creates a different key before the server's check.
        moto.kill().unwrap();
        moto.wait().unwrap();
        let mut moto = start_moto(port);
        wait_until_up(&endpoint, &sdk).await;
        let other = secrets::read_or_create(&secrets_client, "glucolens/signing-key", secrets::random_signing_key)
            .await
            .unwrap();
        use secrecy::ExposeSecret;
        assert_ne!(other.expose_secret(), key.expose_secret());
        assert!(
            queue.send_all(&["before the check"]).await.is_ok(),
            "a send recreates the lost queue itself"
        );

        let restored = resources.restore_once().await.unwrap();
        assert_eq!(
            restored,
            Restored {
                signing_key: true,
                queue: false,
                bucket: true
            }
        );
        let stored = secrets::read(&secrets_client, "glucolens/signing-key").await.unwrap();
        assert_eq!(stored.expose_secret(), key.expose_secret(), "the server's key is kept");
        moto.kill().unwrap();
        let _ = moto.wait();
    }
}
