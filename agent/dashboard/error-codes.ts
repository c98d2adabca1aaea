import { defineErrorCodes } from '../core/errors.js';

/** Failures serving the dashboard's built assets (dist/dashboard, made by scripts/build-dashboard.mjs). */
export const DASH = defineErrorCodes('DASH', {
  ASSETS_MISSING: { category: 'io', summary: 'The dashboard has not been built: dist/dashboard/index.html is missing (run npm run build).' },
  ASSET_TOO_LARGE: { category: 'io', summary: 'A file under dist/dashboard is larger than a dashboard asset may be, so it is not loaded into memory.' },
});
