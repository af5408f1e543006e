// GET /api/v1/reads/:id/images/patch and /overview -> image/png. Each view is decided like the record
// view and audited, so the image URLs carry the same reason token (never the reason itself).
import { useState } from "react";
import type { Read } from "../api/types";

/** The plate patch and overview images, when the read has them and the server serves them. */
export function ReadImages({ read, query }: { read: Read; query: string }) {
  if (!read.patch_sha256 && !read.overview_sha256) return <p className="hint">No images were stored with this read.</p>;
  return (
    <div className="images">
      {read.patch_sha256 && <Img src={`/api/v1/reads/${encodeURIComponent(read.id)}/images/patch${query}`} alt={`Plate patch of ${read.vrm}`} />}
      {read.overview_sha256 && <Img src={`/api/v1/reads/${encodeURIComponent(read.id)}/images/overview${query}`} alt={`Overview image of the read of ${read.vrm}`} />}
    </div>
  );
}

function Img({ src, alt }: { src: string; alt: string }) {
  const [failed, setFailed] = useState(false);
  if (failed) return <p className="hint">{alt}: could not be shown (refused, or not stored).</p>;
  return (
    <figure>
      <img src={src} alt={alt} onError={() => setFailed(true)} />
      <figcaption>{alt}</figcaption>
    </figure>
  );
}
