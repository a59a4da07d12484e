-- Transactions whose client (VENTA) or supplier (COMPRA) is in neither master table.
SELECT
    fecha_transaccion,
    tipo_transaccion,
    nombre_cliente_proveedor,
    tipo_energia,
    cantidad_comprada_kwh,
    precio_total_cop
FROM transacciones
WHERE NOT contraparte_conocida
ORDER BY fecha_transaccion, nombre_cliente_proveedor, tipo_transaccion
