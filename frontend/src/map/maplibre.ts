// maplibre-gl set up for our CSP: its worker is bundled by Vite as a same-origin script (no blob:
// worker), and the style is a plain background with our own GeoJSON layers only: no tile server,
// no glyphs, no fonts, no sprites, so nothing is fetched from another origin.
import * as maplibregl from "maplibre-gl";
import type { Feature, FeatureCollection } from "geojson";
import "maplibre-gl/dist/maplibre-gl.css";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url";
import type { StyleSpecification } from "maplibre-gl";

maplibregl.setWorkerUrl(workerUrl);

export { maplibregl };

export const plainStyle: StyleSpecification = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }],
};

/** Faint lines every `step` degrees, so distances and directions can be judged without tiles. */
export function graticule(bounds: [number, number, number, number], step = 0.05): FeatureCollection {
  const [w, s, e, n] = bounds;
  const features: Feature[] = [];
  const snap = (v: number) => Math.floor(v / step) * step;
  for (let x = snap(w - step); x <= e + step; x += step) {
    features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: [[x, s - 1], [x, n + 1]] } });
  }
  for (let y = snap(s - step); y <= n + step; y += step) {
    features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: [[w - 1, y], [e + 1, y]] } });
  }
  return { type: "FeatureCollection", features };
}
