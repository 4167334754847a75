// Renders the API reference (templates/api/docs.html) with the vendored Swagger UI.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: false, // its links sit inside buttons (axe: nested-interactive)
    tryItOutEnabled: false,
  });
});
