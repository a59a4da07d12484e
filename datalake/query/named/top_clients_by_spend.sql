-- Top 10 known clients by what they spent on energy sold to them (VENTA).
SELECT
    nombre_cliente_proveedor AS cliente,
    sum(precio_total_cop) AS gasto_total_cop,
    sum(cantidad_comprada_kwh) AS total_kwh,
    count(*) AS transacciones
FROM transacciones
WHERE tipo_transaccion = 'VENTA' AND contraparte_conocida
GROUP BY nombre_cliente_proveedor
ORDER BY gasto_total_cop DESC, cliente
LIMIT 10
