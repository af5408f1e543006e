import { useEffect, useRef } from "react";
import { graticule, maplibregl, plainStyle } from "../map/maplibre";

export interface MapPoint {
  id: string;
  lon: number;
  lat: number;
  label: string;
  kind: "stop" | "first" | "last" | "flagged" | "camera" | "evidence";
}

export interface MapLine {
  coords: [number, number][];
  flagged: boolean;
}

/** A map of camera points and route segments on a plain background (our own GeoJSON only).
 * Clicking a point shows its label; the same data is always in a table beside the map for
 * keyboard and screen-reader users. */
export interface MapLabel {
  lon: number;
  lat: number;
  text: string;
}

/** Labels are DOM markers, not map text: the style has no glyphs, so nothing is fetched for fonts. */
export function RouteMap({ points, lines, label, labels = [] }: { points: MapPoint[]; lines: MapLine[]; label: string; labels?: MapLabel[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || points.length === 0) return;
    const lons = points.map((p) => p.lon);
    const lats = points.map((p) => p.lat);
    const bounds: [number, number, number, number] = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
    const map = new maplibregl.Map({
      container: el.current,
      style: plainStyle,
      bounds: [
        [bounds[0] - 0.02, bounds[1] - 0.02],
        [bounds[2] + 0.02, bounds[3] + 0.02],
      ],
      fitBoundsOptions: { padding: 40 },
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots in the browser tests show the drawn map
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    map.on("load", () => {
      map.addSource("grid", { type: "geojson", data: graticule(bounds) });
      map.addLayer({ id: "grid", type: "line", source: "grid", paint: { "line-color": "#d5dbe1", "line-width": 1 } });
      map.addSource("route", {
        type: "geojson",
        data: {
          type: "FeatureCollection",
          features: lines.map((l) => ({ type: "Feature", properties: { flagged: l.flagged }, geometry: { type: "LineString", coordinates: l.coords } })),
        },
      });
      map.addLayer({
        id: "route",
        type: "line",
        source: "route",
        paint: {
          "line-color": ["case", ["get", "flagged"], "#c0392b", "#1f5fa8"],
          "line-width": ["case", ["get", "flagged"], 4, 2.5],
          "line-dasharray": ["case", ["get", "flagged"], ["literal", [2, 1]], ["literal", [1, 0]]],
        },
      });
      map.addSource("points", {
        type: "geojson",
        data: {
          type: "FeatureCollection",
          features: points.map((p) => ({ type: "Feature", properties: { kind: p.kind, label: p.label }, geometry: { type: "Point", coordinates: [p.lon, p.lat] } })),
        },
      });
      map.addLayer({
        id: "points",
        type: "circle",
        source: "points",
        // Flagged and end points draw over ordinary reads at the same camera.
        layout: { "circle-sort-key": ["match", ["get", "kind"], "camera", 0, "stop", 1, "evidence", 2, "flagged", 3, 4] },
        paint: {
          "circle-radius": ["match", ["get", "kind"], "camera", 3, "first", 9, "last", 9, "flagged", 8, 6],
          "circle-color": ["match", ["get", "kind"], "camera", "#9aa5b1", "first", "#1e8449", "last", "#6c3483", "flagged", "#c0392b", "evidence", "#d68910", "#1f5fa8"],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": ["match", ["get", "kind"], "camera", 0, 2],
        },
      });
      for (const l of labels) {
        const el = document.createElement("div");
        el.className = "map-label";
        el.textContent = l.text;
        new maplibregl.Marker({ element: el, anchor: "left", offset: [9, 0] }).setLngLat([l.lon, l.lat]).addTo(map);
      }
      map.on("click", "points", (ev: maplibregl.MapLayerMouseEvent) => {
        const f = ev.features?.[0];
        if (!f || f.geometry.type !== "Point") return;
        const div = document.createElement("div");
        div.textContent = String(f.properties["label"] ?? "");
        new maplibregl.Popup({ closeButton: true }).setLngLat(f.geometry.coordinates as [number, number]).setDOMContent(div).addTo(map);
      });
    });
    return () => map.remove();
  }, [points, lines, labels]);
  return <div ref={el} className="map" role="img" aria-label={label} data-testid="map" />;
}
