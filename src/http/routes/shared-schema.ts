import type { App } from '../deps.js';

interface SharedSchema {
  /** The credential every route of the plugin takes, for the OpenAPI document (the plugin's onRequest hook checks it). */
  security?: Record<string, string[]>[];
  tags?: string[];
}

/**
 * Declares once what every route registered in this plugin (and its children) shares in its schema;
 * a route that states its own value keeps it.
 */
export function shareSchema(app: App, shared: SharedSchema): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...shared, ...route.schema };
  });
}
