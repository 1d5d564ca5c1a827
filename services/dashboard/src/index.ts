/** Public surface of the dashboard service (docs/dashboard.md). */
export { serveDashboard, replayDashboard, type DashboardOptions } from "./main";
export { DashboardModel, NOT_FOUND_AFTER_MS } from "./model";
export type { RunInfo, Snapshot, Update, BlockView, DropView, AccView, ModelView } from "./model";
export { runInfoOfHeader, runInfoOfId, runInfoOfResolved } from "./run-info";
export { startServer, bundlePage, type DashboardServer } from "./server";
export { acceptEvent, followRun, replayLines } from "./sources";
