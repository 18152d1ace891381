description = 'red or black truck visible in the front camera'
trucks = scenario_or([get_objects_of_category(log_dir, category='TRUCK'), get_objects_of_category(log_dir, category='BOX_TRUCK')])
colored = scenario_or([is_color(trucks, log_dir, color='red'), is_color(trucks, log_dir, color='black')])
result = within_camera_view(colored, log_dir, camera='ring_front_center')
output_scenario(result, description, log_dir, output_dir)
