export { createApp, OPENAPI_INFO } from './app.js';
export { loadConfig, type Config } from './config.js';
export { createContainer, type Container, type ContainerOptions } from './container.js';
