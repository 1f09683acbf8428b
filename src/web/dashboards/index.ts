export { createDashboardRoutes, READ_ONLY_ACK_MESSAGE, type AcknowledgeNote, type AcknowledgeResult, type DashboardRoutesOptions } from './dashboard-routes.js';
export { CHART_TYPES, DEFAULT_DASHBOARDS_DIR, loadDashboards, parseDashboard, type ChartType, type Dashboard, type Panel } from './dashboard-file.js';
export { isLoopback, resolveUiToken, UI_TOKEN_ENV } from './ui-token.js';
