//! The push side of the distribution API (distribution-spec `spec.md`,
//! "Push"): check whether a blob exists (`HEAD`), mount it from another
//! repository of the same registry (`POST ?mount=&from=`), upload it
//! (`POST` for a session, then one `PUT ?digest=` with the whole body, or
//! `PATCH`es of chunks with their `Content-Range` and a closing `PUT`),
//! and `PUT` a manifest.

use super::client::{Body, Opener, RegistryClient};
use super::RegistryError;
use crate::image::digest::Digest;
use std::io::{self, Read};

/// How a blob came to be in the target repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The repository had it already.
    AlreadyExists,
    /// The registry linked it from another repository, no bytes sent.
    Mounted { from: String },
    /// Its bytes were uploaded.
    Pushed,
}

/// What `POST /blobs/uploads/` answered.
pub(super) enum UploadStart {
    /// `201 Created`: the mount worked, nothing to upload.
    Mounted,
    /// `202 Accepted`: an upload session at this absolute URL.
    Session(String),
}

impl RegistryClient {
    /// Whether the repository has blob `digest` (`HEAD`; 404 is "no").
    pub(super) fn blob_exists(&self, digest: &Digest) -> Result<bool, RegistryError> {
        let url = format!("{}/blobs/{}", self.base, digest);
        match self.execute("HEAD", &url, &[], &Body::Empty) {
            Ok(_) => Ok(true),
            Err(RegistryError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Open an upload session, first asking the registry to mount `digest`
    /// from repository `from` when one is given. A registry that cannot
    /// mount (the source lacks the blob, or the token does not cover it)
    /// answers 202 with a session, which the upload then uses.
    pub(super) fn start_upload(
        &self,
        mount: Option<(&Digest, &str)>,
    ) -> Result<UploadStart, RegistryError> {
        let mut url = format!("{}/blobs/uploads/", self.base);
        if let Some((digest, from)) = mount {
            url.push_str(&format!("?mount={digest}&from={from}"));
        }
        let resp = self.execute("POST", &url, &[], &Body::Empty)?;
        if mount.is_some() && resp.status() == 201 {
            return Ok(UploadStart::Mounted);
        }
        let location = resp
            .header("location")
            .ok_or_else(|| RegistryError::NoLocation { url: url.clone() })?;
        Ok(UploadStart::Session(self.absolute(location)))
    }

    /// Send the whole blob to the upload session `location` and close it
    /// with its digest (the spec's monolithic `PUT`).
    pub(super) fn finish_upload<'a>(
        &self,
        location: &str,
        digest: &Digest,
        size: u64,
        open: &'a Opener<'a>,
    ) -> Result<(), RegistryError> {
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let headers = [("Content-Type", "application/octet-stream")];
        self.execute("PUT", &url, &headers, &Body::Stream { size, open })?;
        Ok(())
    }

    /// Send a blob in chunks of at most `chunk` bytes (one `PATCH` each,
    /// `Content-Range: start-end`, the spec's "chunked upload"; each answer
    /// says where the next goes), then close the session with its digest.
    /// `open(offset, len)` reads that part of the blob.
    pub(super) fn upload_chunks<'a>(
        &self,
        location: String,
        digest: &Digest,
        size: u64,
        chunk: u64,
        open: &'a (dyn Fn(u64, u64) -> io::Result<Box<dyn Read + 'a>> + 'a),
    ) -> Result<(), RegistryError> {
        let mut location = location;
        let mut offset = 0;
        while offset < size {
            let len = chunk.max(1).min(size - offset);
            let range = format!("{}-{}", offset, offset + len - 1);
            let headers = [
                ("Content-Type", "application/octet-stream"),
                ("Content-Range", range.as_str()),
            ];
            let part = move || open(offset, len);
            let body = Body::Stream {
                size: len,
                open: &part,
            };
            let resp = self.execute("PATCH", &location, &headers, &body)?;
            location = match resp.header("location") {
                Some(next) => self.absolute(next),
                None => location,
            };
            offset += len;
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        self.execute("PUT", &url, &[], &Body::Bytes(&[]))?;
        Ok(())
    }

    /// `PUT` a manifest under `tag`, with its media type as the content
    /// type; returns the digest the registry says it stored, if it says.
    pub(super) fn put_manifest(
        &self,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Option<Digest>, RegistryError> {
        let url = format!("{}/manifests/{tag}", self.base);
        let headers = [("Content-Type", media_type)];
        let resp = self.execute("PUT", &url, &headers, &Body::Bytes(bytes))?;
        Ok(resp
            .header("docker-content-digest")
            .and_then(|d| d.parse().ok()))
    }

    /// A `Location` may be absolute or relative to the registry's origin.
    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.origin)
        } else {
            format!("{}/{location}", self.origin)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_locations_resolve_against_the_registry() {
        let c = RegistryClient::new(
            "127.0.0.1:5000",
            "team/app",
            Some(std::path::Path::new("/nonexistent/config.json")),
        )
        .unwrap();
        assert_eq!(
            c.absolute("/v2/team/app/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            c.absolute("https://uploads.example/u2"),
            "https://uploads.example/u2"
        );
    }
}
