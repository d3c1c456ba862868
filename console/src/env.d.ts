// Stylesheets imported for their side effect (Vite emits them as files the CSP allows).
declare module '*.css';
