import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { RequireRole } from "./components/RequireRole";
import { ApproverQueuePage } from "./contract/ApproverQueuePage";
import { AuthorityRequestPage } from "./contract/AuthorityRequestPage";
import { MyAuthoritiesPage } from "./contract/MyAuthoritiesPage";
import { AdminPage } from "./pages/AdminPage";
import { AuditPage } from "./pages/AuditPage";
import { HomePage } from "./pages/HomePage";
import { ReadPage } from "./pages/ReadPage";
import { SearchPage } from "./pages/SearchPage";

// The map (maplibre-gl) and chart (uPlot) pages load their code on first visit, so the search form
// does not wait for a map library it does not use.
const JourneyPage = lazy(() => import("./pages/JourneyPage").then((m) => ({ default: m.JourneyPage })));
const AnalysisPage = lazy(() => import("./contract/AnalysisPage").then((m) => ({ default: m.AnalysisPage })));
const TransparencyPage = lazy(() => import("./pages/TransparencyPage").then((m) => ({ default: m.TransparencyPage })));

const searchers = ["investigator", "extended_investigator"] as const;

export function App() {
  return (
    <Layout>
      <Suspense fallback={<p aria-busy="true">Loading…</p>}>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/search" element={<RequireRole roles={[...searchers]}><SearchPage /></RequireRole>} />
        <Route path="/journey" element={<RequireRole roles={[...searchers]}><JourneyPage /></RequireRole>} />
        <Route path="/reads/:id" element={<RequireRole roles={[...searchers]}><ReadPage /></RequireRole>} />
        <Route path="/analysis" element={<RequireRole roles={[...searchers]}><AnalysisPage /></RequireRole>} />
        <Route path="/authorities" element={<RequireRole roles={[...searchers]}><MyAuthoritiesPage /></RequireRole>} />
        <Route path="/authorities/new" element={<RequireRole roles={[...searchers]}><AuthorityRequestPage /></RequireRole>} />
        <Route path="/authorities/queue" element={<RequireRole roles={["authorising_officer"]}><ApproverQueuePage /></RequireRole>} />
        <Route path="/audit" element={<RequireRole roles={["auditor"]}><AuditPage /></RequireRole>} />
        <Route path="/admin" element={<RequireRole roles={["anpr_manager"]}><AdminPage /></RequireRole>} />
        <Route path="/transparency" element={<TransparencyPage />} />
        <Route path="*" element={<p role="alert">No such page. <a href="/">Home</a></p>} />
      </Routes>
      </Suspense>
    </Layout>
  );
}
