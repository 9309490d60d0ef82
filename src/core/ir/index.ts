export * from './dtype';
export * from './tensor';
export * from './graph';
